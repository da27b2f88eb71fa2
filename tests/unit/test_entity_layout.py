"""Datelines, results tables, fixtures and country names (newsflow.entity.layout/gazetteer)."""

from __future__ import annotations

import pytest

from newsflow.entity.casing import unshout
from newsflow.entity.gazetteer import country_names, find_countries
from newsflow.entity.layout import Span, apply_layout, datelines, team_slots


def spans_of(text: str, spans: list[Span]) -> set[tuple[str, str]]:
    return {(text[a:b], label) for a, b, label in spans}


def layout(
    text: str, found: list[tuple[str, str]] = (), language: str = "en"
) -> set[tuple[str, str]]:  # type: ignore[assignment]
    spans = []
    for surface, label in found:
        start = text.index(surface)
        spans.append((start, start + len(surface), label))
    return spans_of(text, apply_layout(text, unshout(text), spans, language))


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("BUCHAREST 1996-08-30", {"BUCHAREST"}),
        ("NICE, France 1996-08-30", {"NICE", "France"}),
        ("WASHINGTON, Dec 5 (Reuters) - The Senate voted on Friday.", {"WASHINGTON"}),
        ("BERLIN (dpa) - Die Regierung hat am Montag beschlossen.", {"BERLIN"}),
        (
            "LONDON - The Bank of England kept its rates unchanged on Thursday, "
            "as most economists had expected it would.",
            {"LONDON"},
        ),
    ],
)
def test_datelines(text: str, places: set[str]) -> None:
    assert {text[a:b] for a, b, _ in datelines(text)} == places


@pytest.mark.parametrize(
    "text",
    [
        "SOCCER - AUSTRIA DRAW 0-0 WITH SCOTLAND IN WORLD CUP QUALIFIER .",
        "PRESS DIGEST - Tunisia - Aug 31 .",
        "PS -- There is a happy hour tonight at the bar on Main Street, starting around six, "
        "all welcome.",
        "The BBC said on Monday that it would cut 500 jobs.",
    ],
)
def test_not_datelines(text: str) -> None:
    assert datelines(text) == []


def slots(text: str) -> set[tuple[str, str, bool]]:
    return {(text[a:b], label, certain) for a, b, _, label, certain in team_slots(text)}


def test_results_and_standings_lines_name_teams() -> None:
    assert slots("Leeds 2 Arsenal 1") == {("Leeds", "ORG", True), ("Arsenal", "ORG", True)}
    assert slots("Ross County 3 0 0 3 3 7 0") == {("Ross County", "ORG", True)}
    assert slots("Queen 's Park 3 1 1 1 6 8 4") == {("Queen 's Park", "ORG", True)}
    assert slots("Benetton ( Italy ) 92 Dinamo ( Russia ) 81") == {
        ("Benetton", "ORG", True),
        ("Dinamo", "ORG", True),
    }
    assert slots("Sussex 363 and 144 , Lancashire 218 and 53-0 .") == {
        ("Sussex", "ORG", True),
        ("Lancashire", "ORG", True),
    }


def test_fixtures_name_a_team_and_where_it_plays() -> None:
    assert slots("Kansas City at Detroit") == {
        ("Kansas City", "ORG", True),
        ("Detroit", "LOC", True),
    }
    assert slots("KANSAS CITY AT DETROIT".title()) == {
        ("Kansas City", "ORG", True),
        ("Detroit", "LOC", True),
    }
    assert slots("Essex v Kent") == {("Essex", "ORG", True), ("Kent", "ORG", True)}


@pytest.mark.parametrize(
    "text",
    [
        "Apple sold 3 million phones in 2020, the company said on Tuesday.",
        "Cell (713) 705-7201 Fax (713) 646-2000",
        "Fleming 8-1-26-3 , Gillespie 6-0-27-0 , McGrath 9.5-0-44-1",
        "( J. Pooley 111 , M. Ramprakash 108 )",
        "Intercept: -0.3931 (0.0076)",
    ],
)
def test_no_teams_in_prose_phone_numbers_or_players(text: str) -> None:
    assert {s for s in slots(text) if s[2]} == set()


def test_price_tables_only_relabel_what_the_pipeline_found() -> None:
    assert slots("Sales 12.50 13.00 11.27") == {("Sales", "ORG", False)}
    assert layout("Sales 12.50 13.00 11.27") == set()


def test_apply_layout_relabels_and_adds() -> None:
    # a country in a results line is its national team, labelled as the country
    assert layout("Nigeria 2 Ghana 1", [("Nigeria", "PER")]) == {
        ("Nigeria", "LOC"),
        ("Ghana", "LOC"),
    }
    # a team the pipeline read as a place or a person
    assert layout("Hull 0 Barnet 0", [("Hull", "PER"), ("Barnet", "LOC")]) == {
        ("Hull", "ORG"),
        ("Barnet", "ORG"),
    }
    # a player with a full name stays a person; a nationality is not a team
    assert layout("Tiger Woods 66 67 68", [("Tiger Woods", "PER")]) == {("Tiger Woods", "PER")}
    assert layout("beat the Chilean 6-4 4-6 7-6", [("Chilean", "MISC")]) == {("Chilean", "MISC")}


def test_what_the_pipeline_read_as_a_date_is_no_team() -> None:
    text = "Miramar was founded September 20 1888 and rebuilt in 1902 ."
    month = text.index("September")
    spans = apply_layout(text, text, [], "en", [(month, month + len("September 20 1888"))])
    assert spans == []


def test_countries_standing_alone() -> None:
    assert layout("He flew to Austria on Monday.") == {("Austria", "LOC")}
    assert layout("Talks with South Korea and Viet Nam resumed.") == {
        ("South Korea", "LOC"),
        ("Viet Nam", "LOC"),
    }
    assert layout("Yugoslavia and Scotland met in Glasgow.") == {
        ("Yugoslavia", "LOC"),
        ("Scotland", "LOC"),
    }
    # part of a longer name, or a word made from the name: left to the pipeline
    assert layout("The Bank of England raised rates.") == set()
    assert layout("She moved to New Zealand.", [("New Zealand", "LOC")]) == {("New Zealand", "LOC")}
    assert layout("an Austria-based company") == set()
    assert layout("Air New Zealand Limited cut fares.") == set()
    # the pipeline's span wins where it covers more than the country
    assert layout("Rally for Democracy in Rwanda", [("Rally for Democracy in Rwanda", "ORG")]) == {
        ("Rally for Democracy in Rwanda", "ORG")
    }
    # an exact country span the pipeline mislabelled
    assert layout("Reports from Nigeria said so.", [("Nigeria", "PER")]) == {("Nigeria", "LOC")}


def test_countries_in_a_shouted_headline() -> None:
    text = "SOCCER - AUSTRIA DRAW 0-0 WITH SCOTLAND IN QUALIFIER ."
    assert layout(text, [("AUSTRIA DRAW", "ORG")]) == {("AUSTRIA", "LOC"), ("SCOTLAND", "LOC")}
    # a dateline's place is not cut into a country
    assert layout("MEXICO CITY 1996-08-30") == {("MEXICO CITY", "LOC")}


def test_country_names_in_the_reading_language() -> None:
    assert layout("Er reiste nach Frankreich und Österreich.", language="de") == {
        ("Frankreich", "LOC"),
        ("Österreich", "LOC"),
    }
    assert layout("Hon flög till Sydkorea i går.", language="sv") == {("Sydkorea", "LOC")}
    german = country_names("de")
    assert ("deutschland",) in german["deutschland"] and ("germany",) in german["germany"]


def test_unspaced_languages_are_left_alone() -> None:
    text = "日本 2 中国 1"
    assert apply_layout(text, text, [], "zh") == []
    assert find_countries("", "en", []) == []
