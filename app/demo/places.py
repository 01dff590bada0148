"""Real Swiss places for the demo ERP: postcode, city, canton, landline area code, language.

Curated by hand so that every address is plausible: the postcode belongs to
the city, the city to the canton, and the area code is the one its landlines
have. The language is the one spoken there (bilingual places: the majority's).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    """One locality."""

    zip: str
    city: str
    canton: str
    area_code: str
    language: str

    @property
    def town(self) -> str:
        """The city without a canton suffix (``Wil SG`` → ``Wil``), as company names use it."""
        stem, _, last = self.city.rpartition(" ")
        return stem if stem and last.isupper() and len(last) == 2 else self.city


# fmt: off
PLACES: tuple[Place, ...] = tuple(
    Place(*fields)
    for fields in (
        ("8001", "Zürich", "ZH", "44", "de"), ("8400", "Winterthur", "ZH", "52", "de"),
        ("8600", "Dübendorf", "ZH", "44", "de"), ("8800", "Thalwil", "ZH", "44", "de"),
        ("8610", "Uster", "ZH", "44", "de"), ("8302", "Kloten", "ZH", "44", "de"),
        ("8953", "Dietikon", "ZH", "44", "de"), ("8820", "Wädenswil", "ZH", "44", "de"),
        ("8180", "Bülach", "ZH", "44", "de"), ("3011", "Bern", "BE", "31", "de"),
        ("2502", "Biel/Bienne", "BE", "32", "de"), ("3600", "Thun", "BE", "33", "de"),
        ("3400", "Burgdorf", "BE", "34", "de"), ("3800", "Interlaken", "BE", "33", "de"),
        ("4900", "Langenthal", "BE", "62", "de"), ("6003", "Luzern", "LU", "41", "de"),
        ("6210", "Sursee", "LU", "41", "de"), ("6030", "Ebikon", "LU", "41", "de"),
        ("6300", "Zug", "ZG", "41", "de"), ("6330", "Cham", "ZG", "41", "de"),
        ("6340", "Baar", "ZG", "41", "de"), ("6430", "Schwyz", "SZ", "41", "de"),
        ("8808", "Pfäffikon SZ", "SZ", "55", "de"), ("6460", "Altdorf UR", "UR", "41", "de"),
        ("6060", "Sarnen", "OW", "41", "de"), ("6370", "Stans", "NW", "41", "de"),
        ("8750", "Glarus", "GL", "55", "de"), ("1700", "Fribourg", "FR", "26", "fr"),
        ("3280", "Murten", "FR", "26", "de"), ("1630", "Bulle", "FR", "26", "fr"),
        ("4500", "Solothurn", "SO", "32", "de"), ("4600", "Olten", "SO", "62", "de"),
        ("2540", "Grenchen", "SO", "32", "de"), ("4051", "Basel", "BS", "61", "de"),
        ("4410", "Liestal", "BL", "61", "de"), ("4153", "Reinach BL", "BL", "61", "de"),
        ("4123", "Allschwil", "BL", "61", "de"), ("4132", "Muttenz", "BL", "61", "de"),
        ("8200", "Schaffhausen", "SH", "52", "de"), ("9100", "Herisau", "AR", "71", "de"),
        ("9050", "Appenzell", "AI", "71", "de"), ("9000", "St. Gallen", "SG", "71", "de"),
        ("8640", "Rapperswil-Jona", "SG", "55", "de"), ("9500", "Wil SG", "SG", "71", "de"),
        ("7000", "Chur", "GR", "81", "de"), ("7500", "St. Moritz", "GR", "81", "de"),
        ("7270", "Davos Platz", "GR", "81", "de"), ("5000", "Aarau", "AG", "62", "de"),
        ("5400", "Baden", "AG", "56", "de"), ("5200", "Brugg", "AG", "56", "de"),
        ("4800", "Zofingen", "AG", "62", "de"), ("5430", "Wettingen", "AG", "56", "de"),
        ("8500", "Frauenfeld", "TG", "52", "de"), ("8280", "Kreuzlingen", "TG", "71", "de"),
        ("8590", "Romanshorn", "TG", "71", "de"), ("6900", "Lugano", "TI", "91", "it"),
        ("6500", "Bellinzona", "TI", "91", "it"), ("6600", "Locarno", "TI", "91", "it"),
        ("6850", "Mendrisio", "TI", "91", "it"), ("1003", "Lausanne", "VD", "21", "fr"),
        ("1800", "Vevey", "VD", "21", "fr"), ("1820", "Montreux", "VD", "21", "fr"),
        ("1400", "Yverdon-les-Bains", "VD", "24", "fr"), ("1110", "Morges", "VD", "21", "fr"),
        ("1260", "Nyon", "VD", "22", "fr"), ("1950", "Sion", "VS", "27", "fr"),
        ("1920", "Martigny", "VS", "27", "fr"), ("3930", "Visp", "VS", "27", "de"),
        ("3900", "Brig", "VS", "27", "de"), ("2000", "Neuchâtel", "NE", "32", "fr"),
        ("2300", "La Chaux-de-Fonds", "NE", "32", "fr"), ("1201", "Genève", "GE", "22", "fr"),
        ("1227", "Carouge GE", "GE", "22", "fr"), ("1217", "Meyrin", "GE", "22", "fr"),
        ("2800", "Delémont", "JU", "32", "fr"), ("2900", "Porrentruy", "JU", "32", "fr"),
    )
)
# fmt: on
