"""Word rules for close languages that character n-grams cannot tell apart. No Redis, no FastStream.

Croatian, Bosnian and Serbian (Latin script), Malay and Indonesian, Norwegian Bokmål, Nynorsk
and Danish, Afrikaans and Dutch share most of their character n-grams: fastText and lingua fold
Bosnian into Croatian and Malay into Indonesian, and mix up the others on short text. Their
standard languages differ in a few very frequent words, known from their grammars and
dictionaries (not learned from any evaluation data): Croatian "tisuća", "tjedan", "tko",
"tijekom", its own month names; Bosnian and Serbian "hiljada", "sedmica", "ko", "tokom",
"januar"; Serbian ekavian "vreme", "posle" where the others write "vrijeme", "poslije"; Malay
"kerana", "iaitu", "wang", "Ogos" where Indonesian writes "karena", "yaitu", "uang", "Agustus";
Nynorsk "ikkje", "eg", "frå", "kva" where Bokmål writes "ikke", "jeg", "fra", "hva" and Danish
"ikke", "jeg", "fra", "hvad"; Afrikaans "nie", "ek", "hulle", "vir" where Dutch writes "niet",
"ik", "zij", "voor". When the text carries such words for one member of the group and not for
the others, that member is chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    """kerana iaitu sahaja wang mahu kereta bas teksi polis hospital universiti ogos mac julai jun
    disember filem muzik kualiti aktiviti komuniti bahawa selepas baharu pejabat syarikat"""
)
INDONESIAN = _words(
    """karena yaitu uang mau mobil bus taksi universitas agustus maret juli juni desember musik
    kualitas aktivitas komunitas bisa bahwa kantor perusahaan"""
)
BOKMAL = _words(
    """ikke jeg fra hva hvordan bare også mye noe være vært kommer sier hele flere hun ble siden
    derfor selv nå hvis hvor hvem meg deg seg av etter igjen mellom noen sammen etter henne oss
    veldig"""
)
NYNORSK = _words(
    """ikkje eg frå kva korleis berre òg mykje noko vere vore kjem seier heile fleire dei deira ho
    vart sidan difor sjølv viss kvar kven ein eit mellom nokon saman igjen etter henne oss av seg
    meg deg veldig"""
)
DANISH = _words(
    """ikke jeg fra hvad hvordan bare også meget noget være været kommer siger hele flere hun blev
    siden derfor selv nu hvis hvor hvem mig dig sig af efter igen mellem nogen sammen hende os
    meget"""
)
AFRIKAANS = _words("nie ek jy hulle julle vir sal baie mense hê gesê kinders sê")
DUTCH = _words("niet ik jij zij zijn zal nu mensen hebben gezegd kinderen zeggen wordt")
# A word in both lists of a pair is no evidence.
EKAVIAN, IJEKAVIAN = EKAVIAN - IJEKAVIAN, IJEKAVIAN - EKAVIAN
MALAY, INDONESIAN = MALAY - INDONESIAN, INDONESIAN - MALAY
BOKMAL, NYNORSK, DANISH = (
    BOKMAL - NYNORSK - DANISH,
    NYNORSK - BOKMAL - DANISH,
    DANISH - BOKMAL - NYNORSK,
)
AFRIKAANS, DUTCH = AFRIKAANS - DUTCH, DUTCH - AFRIKAANS

# How many times more marker words the chosen member needs than any other member.
MARGIN = 3


def _count(words: Iterable[str], markers: frozenset[str]) -> int:
    return sum(1 for word in words if word in markers)


# The groups the rules know, by every code a member may be reported under.
_SERBO_CROATIAN = frozenset({"hr", "bs", "sr", "hbs"})
_MALAY_INDONESIAN = frozenset({"ms", "id"})
_NORWEGIAN_DANISH = frozenset({"no", "nb", "nn", "da"})
_AFRIKAANS_DUTCH = frozenset({"af", "nl"})
WORD_RULED = _SERBO_CROATIAN | _MALAY_INDONESIAN | _NORWEGIAN_DANISH | _AFRIKAANS_DUTCH


def _scores(code: str, words: list[str]) -> dict[str, int]:
    """Marker words per member of ``code``'s group."""
    if code in _SERBO_CROATIAN:
        eastern = _count(words, EASTERN)
        ekavian, ijekavian = _count(words, EKAVIAN), _count(words, IJEKAVIAN)
        return {
            "hr": _count(words, CROATIAN),
            "bs": _count(words, BOSNIAN) + (eastern if ijekavian >= ekavian else 0),
            "sr": ekavian + (eastern if ekavian > ijekavian else 0),
        }
    if code in _MALAY_INDONESIAN:
        return {"ms": _count(words, MALAY), "id": _count(words, INDONESIAN)}
    if code in _NORWEGIAN_DANISH:
        return {
            "no": _count(words, BOKMAL),  # lid.176's tag for Bokmål (lingua says "nb")
            "nn": _count(words, NYNORSK),
            "da": _count(words, DANISH),
        }
    return {"af": _count(words, AFRIKAANS), "nl": _count(words, DUTCH)}


def sibling_by_words(code: str, text: str) -> str | None:
    """The member of ``code``'s group (hr/bs/sr in Latin script, ms/id, no/nn/da, af/nl) that
    the text's words point to, or None when they do not single one out (too few marker words,
    or a mix)."""
    if code not in WORD_RULED:
        return None
    scores = _scores(code, _WORD.findall(text.lower()))
    best = max(scores, key=scores.__getitem__)
    rest = max(score for member, score in scores.items() if member != best)
    if scores[best] >= 1 and scores[best] >= MARGIN * rest:
        return best
    return None
