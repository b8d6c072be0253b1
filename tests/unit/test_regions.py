from __future__ import annotations

import pytest

from mediation.regions import (
    Region,
    children,
    city_of,
    counties_under,
    covers,
    get_region,
    is_valid_region_code,
    province_of,
    region_prefix,
)

HUBEI_CITIES = {
    "420100": "武汉市",
    "420200": "黄石市",
    "420300": "十堰市",
    "420500": "宜昌市",
    "420600": "襄阳市",
    "420700": "鄂州市",
    "420800": "荆门市",
    "420900": "孝感市",
    "421000": "荆州市",
    "421100": "黄冈市",
    "421200": "咸宁市",
    "421300": "随州市",
    "422800": "恩施土家族苗族自治州",
    "429000": "省直辖县级行政区划",
}

# county-level divisions per Hubei city-level division
HUBEI_COUNTY_COUNTS = {
    "420100": 13,
    "420200": 6,
    "420300": 8,
    "420500": 13,
    "420600": 9,
    "420700": 3,
    "420800": 5,
    "420900": 7,
    "421000": 8,
    "421100": 10,
    "421200": 6,
    "421300": 3,
    "422800": 8,
    "429000": 4,
}


def test_get_region_known_and_unknown() -> None:
    assert get_region("420102") == Region("420102", "江岸区", "county")
    assert get_region("420000") == Region("420000", "湖北省", "province")
    assert get_region("429000") == Region("429000", "省直辖县级行政区划", "city")
    assert get_region("421023") is None  # 监利县, replaced by 421088 监利市 in 2020
    assert get_region("420321") is None  # 郧县, replaced by 420304 郧阳区
    assert get_region("999999") is None


def test_all_34_province_level_divisions() -> None:
    codes = [
        "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000",
        "310000", "320000", "330000", "340000", "350000", "360000", "370000", "410000",
        "420000", "430000", "440000", "450000", "460000", "500000", "510000", "520000",
        "530000", "540000", "610000", "620000", "630000", "640000", "650000", "710000",
        "810000", "820000",
    ]  # fmt: skip
    assert len(codes) == 34
    for code in codes:
        region = get_region(code)
        assert region is not None, code
        assert region.level == "province"
    every_province = [f"{p:02d}0000" for p in range(100) if get_region(f"{p:02d}0000")]
    assert every_province == codes
    assert get_region("110000") == Region("110000", "北京市", "province")
    assert get_region("710000") == Region("710000", "台湾省", "province")
    assert get_region("820000") == Region("820000", "澳门特别行政区", "province")
    assert get_region("650000") == Region("650000", "新疆维吾尔自治区", "province")


def test_hubei_has_exactly_14_city_level_children() -> None:
    cities = children("420000", "city")
    assert {r.code: r.name for r in cities} == HUBEI_CITIES
    assert len(cities) == 14
    assert [r.code for r in cities] == sorted(HUBEI_CITIES)


def test_hubei_county_level_divisions() -> None:
    counties = counties_under("420000")
    assert len(counties) == 103
    assert all(r.level == "county" for r in counties)
    assert [r.code for r in counties] == sorted(r.code for r in counties)
    for city, count in HUBEI_COUNTY_COUNTS.items():
        assert len(counties_under(city)) == count, city
    assert sum(HUBEI_COUNTY_COUNTS.values()) == 103


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("420102", "江岸区"),
        ("420104", "硚口区"),
        ("420117", "新洲区"),
        ("420281", "大冶市"),
        ("420304", "郧阳区"),
        ("420505", "猇亭区"),
        ("420607", "襄州区"),
        ("420882", "京山市"),
        ("420984", "汉川市"),
        ("421088", "监利市"),
        ("421381", "广水市"),
        ("422801", "恩施市"),
        ("429004", "仙桃市"),
        ("429005", "潜江市"),
        ("429006", "天门市"),
        ("429021", "神农架林区"),
    ],
)
def test_selected_county_names(code: str, name: str) -> None:
    assert get_region(code) == Region(code, name, "county")


def test_wuhan_districts() -> None:
    assert [r.name for r in counties_under("420100")] == [
        "江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区",
        "东西湖区", "汉南区", "蔡甸区", "江夏区", "黄陂区", "新洲区",
    ]  # fmt: skip


def test_is_valid_region_code() -> None:
    assert is_valid_region_code("420102")
    assert is_valid_region_code("710000")
    assert not is_valid_region_code("42010")
    assert not is_valid_region_code("4201020")
    assert not is_valid_region_code("42010a")
    assert not is_valid_region_code("４２０１０２")  # full-width digits
    assert not is_valid_region_code("420199")
    assert not is_valid_region_code("")


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("420000", "42"),
        ("420100", "4201"),
        ("420102", "420102"),
        ("429000", "4290"),
        ("422800", "4228"),
        ("110000", "11"),
        ("000000", "00"),
        ("100000", "10"),
    ],
)
def test_region_prefix(code: str, prefix: str) -> None:
    assert region_prefix(code) == prefix


@pytest.mark.parametrize("bad", ["", "4201", "42010x", "4201000"])
def test_region_prefix_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        region_prefix(bad)


def test_covers() -> None:
    assert covers("420100", "420102")
    assert not covers("420103", "420102")
    assert covers("420000", "420102")
    assert covers("420000", "429021")
    assert covers("420000", "420100")
    assert covers("429000", "429004")
    assert not covers("429000", "420102")
    assert not covers("420100", "420202")
    assert not covers("420100", "420000")  # a city does not cover its province
    assert not covers("430000", "420102")
    assert covers("420102", "420102")
    assert not covers("42", "420102")
    assert not covers("420000", "4201")


def test_city_and_province_of() -> None:
    assert city_of("420102") == get_region("420100")
    assert province_of("420102") == get_region("420000")
    assert city_of("429004") == get_region("429000")
    assert province_of("429004") == get_region("420000")
    assert city_of("422801") == Region("422800", "恩施土家族苗族自治州", "city")
    assert city_of("420100") == get_region("420100")
    assert province_of("420000") == get_region("420000")
    assert city_of("420000") is None
    assert city_of("420199") is None
    assert province_of("420199") is None
    assert city_of("abc") is None


def test_children_levels_and_order() -> None:
    wuhan = children("420100")
    assert len(wuhan) == 13
    assert all(r.code != "420100" for r in wuhan)
    assert children("420102") == []
    assert children("429000", "county") == [
        Region("429004", "仙桃市", "county"),
        Region("429005", "潜江市", "county"),
        Region("429006", "天门市", "county"),
        Region("429021", "神农架林区", "county"),
    ]
    everything = children("420000")
    assert len(everything) == 14 + 103
    assert [r.code for r in everything] == sorted(r.code for r in everything)
    assert children("420000", "province") == []
    with pytest.raises(ValueError, match="level"):
        children("420000", "town")


def test_region_is_frozen() -> None:
    region = get_region("420102")
    assert region is not None
    with pytest.raises(AttributeError):
        region.name = "x"  # type: ignore[misc]
