"""Standardisers: the same value written many ways, made one way before records are compared.

Each function takes one raw value and returns the standard form ("" when nothing usable is
left). They work on anyone's data, not only Jamaican: phones default to region JM but take any
region; dates accept the common written forms (day first where it is ambiguous, as in Jamaica).
Column-wise versions (``standardise_column``) run them over a pandas Series with a cache of
distinct values, so a million rows cost as many calls as there are distinct spellings.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import phonenumbers

HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mstr", "master", "dr", "rev", "revd", "hon", "sir", "madam",
                        "mme", "prof", "fr", "pastor", "rt", "esq", "jr", "sr", "snr", "jnr", "ii", "iii"})
# Common English nicknames and short forms, to the formal name (both directions are compared
# through this: "Bill" and "William" standardise alike).
NICKNAMES = {
    "bill": "william", "billy": "william", "will": "william", "willie": "william", "liam": "william",
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "bert": "robert",
    "dick": "richard", "rick": "richard", "ricky": "richard", "rich": "richard",
    "jim": "james", "jimmy": "james", "jamie": "james", "mike": "michael", "mikey": "michael", "mick": "michael",
    "tom": "thomas", "tommy": "thomas", "tony": "anthony", "ant": "anthony", "andy": "andrew", "drew": "andrew",
    "dave": "david", "davy": "david", "steve": "stephen", "stevie": "stephen", "steven": "stephen",
    "chris": "christopher", "kit": "christopher", "nick": "nicholas", "nicky": "nicholas",
    "joe": "joseph", "joey": "joseph", "jo": "josephine", "sam": "samuel", "sammy": "samuel",
    "ben": "benjamin", "benny": "benjamin", "dan": "daniel", "danny": "daniel", "ed": "edward", "eddie": "edward",
    "ted": "edward", "ken": "kenneth", "kenny": "kenneth", "larry": "lawrence", "len": "leonard",
    "matt": "matthew", "pat": "patrick", "paddy": "patrick", "pete": "peter", "phil": "philip",
    "ray": "raymond", "ron": "ronald", "ronnie": "ronald", "don": "donald", "donnie": "donald",
    "fred": "frederick", "freddie": "frederick", "gerry": "gerald", "greg": "gregory", "harry": "henry",
    "hank": "henry", "jack": "john", "johnny": "john", "jon": "jonathan", "jonny": "jonathan",
    "kate": "katherine", "katie": "katherine", "kathy": "katherine", "cathy": "catherine", "kitty": "katherine",
    "liz": "elizabeth", "lizzie": "elizabeth", "beth": "elizabeth", "betty": "elizabeth", "bess": "elizabeth",
    "eliza": "elizabeth", "maggie": "margaret", "meg": "margaret", "peggy": "margaret", "marge": "margaret",
    "sue": "susan", "susie": "susan", "jen": "jennifer", "jenny": "jennifer", "patty": "patricia",
    "trish": "patricia", "tricia": "patricia", "debbie": "deborah", "deb": "deborah", "becky": "rebecca",
    "becca": "rebecca", "vicky": "victoria", "tori": "victoria", "sandy": "sandra", "mandy": "amanda",
    "abby": "abigail", "alex": "alexander", "sandra": "sandra", "angie": "angela", "chrissy": "christine",
    "dot": "dorothy", "dottie": "dorothy", "fran": "frances", "gina": "georgina", "nan": "ann", "annie": "ann",
    "anne": "ann", "pam": "pamela", "val": "valerie", "bev": "beverley", "beverly": "beverley",
}
BUSINESS_SUFFIXES = ("limited", "ltd", "company", "co", "incorporated", "inc", "corporation", "corp", "llc",
                     "plc", "llp", "lp", "gmbh", "sa", "srl", "pty", "bv", "ag", "enterprises", "ent",
                     "and sons", "sons", "and co", "the")
_STREET_WORDS = {
    "st": "street", "str": "street", "rd": "road", "ave": "avenue", "av": "avenue", "dr": "drive",
    "drv": "drive", "ln": "lane", "cres": "crescent", "cresc": "crescent", "pl": "place", "blvd": "boulevard",
    "hwy": "highway", "ct": "court", "crt": "court", "cl": "close", "terr": "terrace", "tce": "terrace",
    "pk": "park", "pkwy": "parkway", "sq": "square", "mt": "mount", "gdns": "gardens", "gdn": "garden",
    "hts": "heights", "apt": "apartment", "bldg": "building", "no": "", "nr": "", "p.o.": "po", "pob": "po box",
}


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _words(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and text != text):
        return []
    t = ascii_fold(str(text)).lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", " ", t).split()


def name(value: Any, nicknames: bool = True) -> str:
    """A person's name (given, family or full): lower case, no punctuation or honorifics,
    nicknames to the formal name ("Mr. Bill O'Brien" -> "william obrien")."""
    words = [w for w in _words(value) if w not in HONORIFICS]
    if nicknames:
        words = [NICKNAMES.get(w, w) for w in words]
    return " ".join(words)


def business_name(value: Any) -> str:
    """A business name without its legal form or filler ("The Jerk Centre Co. Ltd" -> "jerk centre")."""
    text = " ".join(_words(value))
    changed = True
    while changed and text:
        changed = False
        for suffix in BUSINESS_SUFFIXES:
            for pattern in (f" {suffix}", f"{suffix} ") if suffix == "the" else (f" {suffix}",):
                if text.endswith(pattern) and pattern.startswith(" "):
                    text, changed = text[: -len(pattern)], True
                elif text.startswith(pattern) and pattern.endswith(" "):
                    text, changed = text[len(pattern):], True
    return text.strip()


def phone(value: Any, region: str = "JM") -> str:
    """E.164 ("+18765551234"); a number phonenumbers cannot make valid is kept as its digits
    (so it can still be compared), and "" when there are fewer than 7 digits."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a number read from a spreadsheet cell
        text = text[:-2]
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return ""
    try:
        parsed = phonenumbers.parse(text, region)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return digits


def email(value: Any) -> str:
    """Lower case, trimmed; Gmail's dots and +tags dropped; "" when it is not an address."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip().lower().replace("mailto:", "")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", text):
        return ""
    local, domain = text.rsplit("@", 1)
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def street(value: Any) -> str:
    """A street line with its abbreviations written out ("12 Hope Rd." -> "12 hope road").
    "St" is "street" except as the first word of a name ("St Lucia Ave" -> "saint lucia avenue")."""
    words = _words(value)
    out = []
    for i, w in enumerate(words):
        if w == "st" and i + 1 < len(words) and not words[i + 1].isdigit() and i < len(words) - 1:
            out.append("saint")
        else:
            out.append(_STREET_WORDS.get(w, w))
    return " ".join(w for w in out if w)


def locality(value: Any) -> str:
    """A town, suburb or parish: words, with Saint/St./St written one way."""
    words = _words(value)
    if words and words[0] in ("st", "saint", "ste"):
        words[0] = "saint"
    return " ".join(words)


def region(value: Any) -> str:
    """A region or parish; Jamaican parishes to their ISO code ("St. Andrew" -> "JM-02")."""
    from c360_desktop.core.jamaica import parish_code

    text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
    return parish_code(text) or " ".join(_words(text))


def postcode(value: Any) -> str:
    """A postal code: letters and digits, lower case ("KN 10" -> "kn10")."""
    return id_number(value).lower()


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y",
                 "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y", "%m/%d/%Y")


def date_value(value: Any) -> str:
    """ISO 8601 (YYYY-MM-DD) from the common written forms; day first where ambiguous
    (01/02/1990 is 1 February), month first only when the day would be over 12; "" otherwise.
    A date that cannot exist is kept as its digits, so a typo still compares closely."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip().replace(",", " ")
    text = re.sub(r"\s+", " ", text)
    if re.fullmatch(r"\d{8}\.0", text):
        text = text[:-2]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T].*", text):
        text = text[:10]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 6 else ""


def id_number(value: Any) -> str:
    """An identifier (TRN, social security number, account number): its letters and digits."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def other(value: Any) -> str:
    return " ".join(_words(value))


def street_number(value: Any) -> str:
    text = id_number(value).lower()
    return text


def full_name(value: Any) -> str:
    """A whole name; "Family, Given" is turned round ("McFarlane, Jonathan" -> "jonathan mcfarlane")."""
    if isinstance(value, str) and value.count(",") == 1:
        family, given = value.split(",")
        if family.strip() and given.strip():
            value = f"{given} {family}"
    return name(value)


STANDARDISERS: dict[str, Callable[[Any], str]] = {
    "given_name": name, "surname": lambda v: name(v, nicknames=False), "full_name": full_name,
    "business_name": business_name, "street_number": street_number, "street": street, "locality": locality,
    "region": region, "postcode": postcode, "date": date_value, "phone": phone, "email": email,
    "id_number": id_number, "other": other,
}
FIELD_TYPES = tuple(STANDARDISERS)


_NANP_JM = ("876", "658")


def _phones_fast(series: Any) -> Any:
    """Jamaican numbers written any common way, to E.164 without a phonenumbers call each: the
    digits of a 10-digit 876/658 number (or 11 with the country code 1) whose exchange starts
    with 2-9, as phonenumbers itself would give; None where the slow path must decide."""
    digits = series.astype(str).str.replace(r"\.0$", "", regex=True).str.replace(r"\D", "", regex=True)
    ten = digits.where(digits.str.len() == 10, digits.str.slice(1).where(
        (digits.str.len() == 11) & digits.str.startswith("1")))
    ok = ten.notna() & ten.fillna("").str.fullmatch(_jm_valid_pattern())
    return ("+1" + ten).where(ok)


@functools.cache
def _jm_valid_pattern() -> str:
    """What phonenumbers calls a valid Jamaican number: any of its number types' patterns."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("JM")
    kinds = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
             "pager", "uan", "voicemail")
    patterns = [d.national_number_pattern for d in (getattr(meta, k, None) for k in kinds)
                if d is not None and d.national_number_pattern]
    return "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


_DATE_FAST = ("%Y-%m-%d", "%d/%m/%Y", "%d %b %Y", "%Y%m%d", "%d-%m-%Y", "%d.%m.%Y")


def _dates_fast(series: Any) -> Any:
    """The usual written dates parsed column-wise (pandas), in the same order of preference as
    date_value; None where the per-value path must decide."""
    import pandas as pd

    text = series.astype(str).str.strip()
    out = pd.Series([None] * len(text), index=text.index, dtype=object)
    todo = pd.Series(True, index=text.index)
    for fmt in _DATE_FAST:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        hit = parsed.notna()
        out[hit[hit].index] = parsed[hit].dt.strftime("%Y-%m-%d")
        todo[hit[hit].index] = False
    return out


def standardise_column(values: Any, field_type: str, region: str = "JM", fast_paths: bool = True) -> Any:
    """A pandas Series standardised for ``field_type`` (each distinct value once; phones and
    dates in the usual forms column-wise first)."""
    import pandas as pd

    if field_type not in STANDARDISERS:
        raise ValueError(f"field type {field_type!r}: choose one of {', '.join(FIELD_TYPES)}")
    fn = STANDARDISERS[field_type]
    series = pd.Series(values)
    fast = None
    if fast_paths and field_type == "phone" and region == "JM":
        fast = _phones_fast(series.fillna(""))
    elif fast_paths and field_type == "date":
        fast = _dates_fast(series.fillna(""))
    if fast is not None:
        slow = fast.isna()
        if slow.any():
            fast[slow] = standardise_column(series[slow].to_numpy(dtype=object), field_type, region,
                                            fast_paths=False).to_numpy()
        return fast.astype(object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    done = [fn(u) for u in uniques]
    import numpy as np

    out = np.empty(len(series), dtype=object)
    mapped = np.array(done + [""], dtype=object)
    out[:] = mapped[np.where(codes < 0, len(done), codes)]
    return pd.Series(out, index=series.index)
