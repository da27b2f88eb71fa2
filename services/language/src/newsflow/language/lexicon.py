"""Word rules for close languages that character n-grams cannot tell apart. No Redis, no FastStream.

Croatian, Bosnian and Serbian (Latin script), Malay and Indonesian, Norwegian Bokmål, Nynorsk,
Danish and Swedish, Afrikaans and Dutch share most of their character n-grams: fastText and
lingua fold Bosnian into Croatian and Malay into Indonesian, and mix up the others on short
text. Their standard languages differ in a few very frequent words, known from their grammars
and dictionaries (not learned from any evaluation data): Croatian "tisuća", "tjedan", "tko",
"tijekom", its own month names; Bosnian and Serbian "hiljada", "sedmica", "ko", "tokom",
"januar", and "sa" where Croatian writes "s"; Serbian ekavian "vreme", "posle" where the others
write "vrijeme", "poslije"; Malay "kerana", "iaitu", "wang", "Ogos" where Indonesian writes
"karena", "yaitu", "uang", "Agustus"; Nynorsk "ikkje", "eg", "frå", "kva" where Bokmål writes
"ikke", "jeg", "fra", "hva", Danish "ikke", "jeg", "fra", "hvad" and Swedish "inte", "jag",
"från", "vad"; Afrikaans "nie", "ek", "hulle", "hy", "my" where Dutch writes "niet", "ik",
"zij", "hij", "mijn". Words are compared pair by pair: a member wins against another when the
text has clearly more words for it than for the other ("ikke" and "en" are Bokmål and Danish,
so they rule Nynorsk out and leave Bokmål against Danish open). The member that wins against
every other is chosen; a member that another wins against is ruled out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CROATIAN = _words(
    """tisuća tisuće tisuću povijest povijesti povijesni povijesne povijesnog tjedan tjedna tjednu
    tjedno kruh kruha kava kave sveučilište sveučilišta sveučilištu glazba glazbe glazbu glazbeni
    glazbenik kazalište kazališta kazalištu tvrtka tvrtke tvrtki tvrtku obitelj obitelji vlak vlaka
    siječnja veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga
    prosinca siječanj veljača ožujak travanj svibanj lipanj srpanj kolovoz rujan listopad prosinac
    tko uopće točno točka točke sretan sretna nogomet nogometa nogometni nogometaši europski
    europska europske europskoj europskog europa europe europi europu znanost znanosti znanstveni
    znanstvenici sustav sustava sustavu proračun proračuna veleposlanstvo veleposlanik izvješće
    izvješća dužnosnik dužnosnici udruga udruge udruzi zrakoplov zrakoplova tijekom mirovina
    mirovine putovnica zapovjednik primjerice glede"""
)
# Bosnian and Serbian, against Croatian.
EASTERN = _words(
    """hiljada hiljade hiljadu sedmica sedmice sedmicu univerzitet univerziteta univerzitetu muzika
    muzike muziku muzički pozorište pozorišta firma firme firmi porodica porodice porodici
    porodicu voz voza januar januara februar februara mart juni juna juli jula septembar
    septembra oktobar oktobra novembar novembra decembar decembra ko šta uopšte tačno tačka tačke
    srećan fudbal fudbala fudbalski evropski evropska evropske evropskoj evropskog evropa evrope
    evropi evropu nauka nauke nauci naučni naučnici budžet budžeta
    ambasada ambasade ambasador izvještaj izvještaja zvaničnik zvaničnici penzija penzije pasoš
    komandant tokom"""
)
# The preposition "sa" ("with") before a word Croatian would join with "s": standard Croatian
# writes "sa" only before s, š, z, ž and hard clusters ("sa mnom", "sa psom"); Bosnian and
# Serbian write it freely ("sa prijateljem").
_EASTERN_SA = re.compile(r"\bsa\s+(?![sšzž]|mn|ps|ks)[^\W\d_]")
_EASTERN_SA_MEMBERS = frozenset({"bs", "sr"})
# Bosnian alone, against Serbian.
BOSNIAN = _words("historija historije historiji historiju historijski hljeb kahva")
# Ekavian (Serbian) and ijekavian (Bosnian, Croatian) forms of the same words.
EKAVIAN = _words(
    """vreme vremena vremenu posle pre dve deo dela ceo celo cela reč reči mesec meseca meseci
    primer primera mleko reka reke dete deca dece lepo lep lepa pesma pesme uvek gde mesto mesta
    mestu hteo bela belo predsednik predsednika predsednica savet saveta istorija istorije
    istoriji istorijski hleb opština opštine"""
)
IJEKAVIAN = _words(
    """vrijeme vremena vremenu poslije prije dvije dio dijela cijeli cijelo cijela riječ riječi
    mjesec mjeseca mjeseci primjer primjera mlijeko rijeka rijeke dijete djeca djece lijepo
    lijep lijepa pjesma pjesme uvijek gdje mjesto mjesta mjestu htio bijela bijelo predsjednik
    predsjednika predsjednica vijeće vijeća"""
)
MALAY = _words(
    """kerana iaitu sahaja wang mahu teksi hospital universiti ogos julai jun disember filem muzik
    kualiti aktiviti komuniti bahawa selepas baharu syarikat peratus percuma kenderaan"""
)
INDONESIAN = _words(
    """karena yaitu uang mau mobil bus taksi universitas agustus maret juli juni desember musik
    kualitas aktivitas komunitas bisa bahwa kantor persen gratis kendaraan nggak banget"""
)
# Norwegian Bokmål, Nynorsk, Danish and Swedish share many words pairwise: "ikke", "jeg", "en",
# "et" are Bokmål and Danish (Nynorsk "ikkje", "eg", "ein", "eit"; Swedish "inte", "jag", "en",
# "ett"); "av", "etter", "meg", "å" are Bokmål and Nynorsk (Danish "af", "efter", "mig", "at");
# "og" and "er" are all but Swedish ("och", "är"). A word is evidence for each list it is in.
BOKMAL = _words(
    """ikke jeg fra hva hvordan hvorfor bare mye noe noen være hele flere hun ble siden selv nå
    hvis hvor hvem meg deg seg av etter igjen mellom sammen henne oss veldig en et ett mer mere
    meget kommer sier fått hennes gjøre blir litt kanskje dere hjem heim uke disse hadde å og er"""
)
NYNORSK = _words(
    """ikkje eg frå kva korleis kvifor berre mykje noko nokon vere kjem seier heile fleire dei
    deira ho vart sidan difor sjølv kvar kven ein eit eitt meir saman heim veke desse nå meg deg
    seg av etter igjen mellom henne oss veldig fått blir litt kanskje hadde å og er"""
)
DANISH = _words(
    """ikke jeg fra hvad hvordan hvorfor bare meget noget nogen være været hele flere hun blev
    siden selv nu hvis hvor hvem mig dig sig af efter igen mellem sammen hende os en et mere mer
    kommer siger fået hendes gøre bliver lidt måske jer hjem uge disse havde og er"""
)
SWEDISH = _words(
    """och inte jag från vad hur varför bara mycket något någon några vara hela flera hon blev
    sedan själv nu vem mig dig sig av efter igen mellan tillsammans henne oss en ett mer kommer
    säger fått hennes göra blir lite kanske ni hem vecka dessa hade att är också där här"""
)
AFRIKAANS = _words(
    """nie ek jy hulle julle hul vir sal sou baie mense hê gesê kinders sê my sy hy hierdie dié
    vandag altyd tyd jare kry sien nuwe soos gewees"""
)
DUTCH = _words(
    """niet ik jij zij zijn zal zou nu mensen hebben heeft gezegd kinderen zeggen wordt worden
    werd waren hij mijn bij wij deze vandaag altijd tijd jaren krijgen zien nieuwe zoals zich
    naar kunnen moeten onze hun"""
)

# How many times more evidence one member needs than another to win against it: a member wins
# against another when the text has at least one word for it and not for the other, and
# MARGIN times as many of those as of the reverse.
MARGIN = 3

# The groups the rules know, by every code a member may be reported under.
_SERBO_CROATIAN = frozenset({"hr", "bs", "sr", "hbs"})
_MALAY_INDONESIAN = frozenset({"ms", "id"})
_NORWEGIAN_DANISH = frozenset({"no", "nb", "nn", "da", "sv"})
_AFRIKAANS_DUTCH = frozenset({"af", "nl"})
WORD_RULED = _SERBO_CROATIAN | _MALAY_INDONESIAN | _NORWEGIAN_DANISH | _AFRIKAANS_DUTCH
# Each list of marker words -> the members it is evidence for.
_LISTS: tuple[tuple[frozenset[str], tuple[tuple[frozenset[str], frozenset[str]], ...]], ...] = (
    (
        _SERBO_CROATIAN,
        (
            (CROATIAN, frozenset({"hr"})),
            (BOSNIAN, frozenset({"bs"})),
            (EASTERN, frozenset({"bs", "sr"})),
            (EKAVIAN, frozenset({"sr"})),
            (IJEKAVIAN, frozenset({"hr", "bs"})),
        ),
    ),
    (_MALAY_INDONESIAN, ((MALAY, frozenset({"ms"})), (INDONESIAN, frozenset({"id"})))),
    (
        _NORWEGIAN_DANISH,
        (
            # lid.176's tag for Bokmål is "no" (lingua says "nb").
            (BOKMAL, frozenset({"no"})),
            (NYNORSK, frozenset({"nn"})),
            (DANISH, frozenset({"da"})),
            (SWEDISH, frozenset({"sv"})),
        ),
    ),
    (_AFRIKAANS_DUTCH, ((AFRIKAANS, frozenset({"af"})), (DUTCH, frozenset({"nl"})))),
)


def _group(code: str) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The members of ``code``'s group, and each marker word's members."""
    for codes, lists in _LISTS:
        if code in codes:
            members: frozenset[str] = frozenset().union(*(m for _, m in lists))
            evidence: dict[str, frozenset[str]] = {}
            for words, for_members in lists:
                for word in words:
                    evidence[word] = evidence.get(word, frozenset()) | for_members
            return members, evidence
    raise KeyError(code)


_GROUPS = {code: _group(code) for code in WORD_RULED}


def group_members(code: str) -> frozenset[str]:
    """The members of ``code``'s group (Bokmål as "no"); empty for a code no rule knows."""
    return _GROUPS[code][0] if code in _GROUPS else frozenset()


@dataclass(frozen=True, slots=True)
class WordVerdict:
    """What a text's words say about the members of a group: the member they single out (it
    wins against every other), and the members they rule out (another wins against them)."""

    chosen: str | None
    ruled_out: frozenset[str]
    words: dict[str, int]  # marker words found per member


def word_verdict(code: str, text: str) -> WordVerdict:
    """The verdict of the text's marker words on ``code``'s group (hr/bs/sr in Latin script,
    ms/id, no/nn/da, af/nl; Bokmål is "no"); nothing chosen or ruled out for other codes."""
    if code not in WORD_RULED:
        return WordVerdict(None, frozenset(), {})
    members, evidence = _GROUPS[code]
    lowered = text.lower()
    found = Counter(evidence[word] for word in _WORD.findall(lowered) if word in evidence)
    if code in _SERBO_CROATIAN and (eastern_sa := len(_EASTERN_SA.findall(lowered))):
        found[_EASTERN_SA_MEMBERS] += eastern_sa
    if not found:
        return WordVerdict(None, frozenset(), {})

    def wins(a: str, b: str) -> bool:
        for_a = sum(n for ms, n in found.items() if a in ms and b not in ms)
        for_b = sum(n for ms, n in found.items() if b in ms and a not in ms)
        return for_a >= 1 and for_a >= MARGIN * for_b

    beaten = {b for b in members for a in members if a != b and wins(a, b)}
    chosen = [a for a in members if all(wins(a, b) for b in members if b != a)]
    words = {m: sum(n for ms, n in found.items() if m in ms) for m in members}
    return WordVerdict(chosen[0] if chosen else None, frozenset(beaten), words)
