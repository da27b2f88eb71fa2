"""Word rules for close languages that character n-grams cannot tell apart. No Redis, no FastStream.

Croatian, Bosnian and Serbian (Latin script), and Malay and Indonesian, share most of their
character n-grams: fastText and lingua both fold Bosnian into Croatian and Malay into
Indonesian. Their standard languages differ in a few very frequent words, known from their
grammars and dictionaries (not learned from any evaluation data): Croatian "tisuća", "tjedan",
"tko", "tijekom", its own month names; Bosnian and Serbian "hiljada", "sedmica", "ko", "tokom",
"januar"; Serbian ekavian "vreme", "posle" where the others write "vrijeme", "poslije"; Malay
"kerana", "iaitu", "wang", "Ogos" where Indonesian writes "karena", "yaitu", "uang", "Agustus".
When the text carries such words for one member of the group and not for the others, that
member is chosen.
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
# A word in both lists of a pair is no evidence.
EKAVIAN, IJEKAVIAN = EKAVIAN - IJEKAVIAN, IJEKAVIAN - EKAVIAN
MALAY, INDONESIAN = MALAY - INDONESIAN, INDONESIAN - MALAY

# How many times more marker words the chosen member needs than any other member.
MARGIN = 3


def _count(words: Iterable[str], markers: frozenset[str]) -> int:
    return sum(1 for word in words if word in markers)


def sibling_by_words(code: str, text: str) -> str | None:
    """The member of ``code``'s group (hr/bs/sr in Latin script, ms/id) that the text's words
    point to, or None when they do not single one out (too few marker words, or a mix)."""
    if code in {"hr", "bs", "sr", "hbs"}:
        words = _WORD.findall(text.lower())
        eastern = _count(words, EASTERN)
        ekavian, ijekavian = _count(words, EKAVIAN), _count(words, IJEKAVIAN)
        scores = {
            "hr": _count(words, CROATIAN),
            "bs": _count(words, BOSNIAN) + (eastern if ijekavian >= ekavian else 0),
            "sr": ekavian + (eastern if ekavian > ijekavian else 0),
        }
    elif code in {"ms", "id"}:
        words = _WORD.findall(text.lower())
        scores = {"ms": _count(words, MALAY), "id": _count(words, INDONESIAN)}
    else:
        return None
    best = max(scores, key=scores.__getitem__)
    rest = max(score for member, score in scores.items() if member != best)
    if scores[best] >= 1 and scores[best] >= MARGIN * rest:
        return best
    return None
