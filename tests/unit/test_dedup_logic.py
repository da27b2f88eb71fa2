from __future__ import annotations

from newsflow.dedup.logic import decide, fingerprint


def test_fingerprint_ignores_case_width_and_whitespace() -> None:
    assert fingerprint("Hello   World\n") == fingerprint("hello world")
    assert fingerprint("ＨＥＬＬＯ world") == fingerprint("hello world")
    assert fingerprint("hello world") != fingerprint("hello, world")


def test_first_claim_is_unique() -> None:
    section = decide("a", "fp", None)
    assert section.status == "unique" and section.duplicate_of is None


def test_redelivery_is_never_a_duplicate_of_itself() -> None:
    assert decide("a", "fp", "a").status == "unique"


def test_other_owner_makes_exact_duplicate() -> None:
    section = decide("b", "fp", "a")
    assert section.status == "exact_duplicate"
    assert section.duplicate_of == "a"
    assert section.similarity == 1.0
    assert section.fingerprint == "fp"
