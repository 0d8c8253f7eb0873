"""Magento searchCriteria: parsing the bracket syntax and applying it to a queryset (auth's User as model)."""

import datetime
import itertools
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, User
from django.http import QueryDict

from sales.api.v1.search_criteria import (
    Filter,
    SearchCriteria,
    SortOrder,
    apply_search_criteria,
    like_pattern,
    parse_search_criteria,
)
from sales.errors import InputError

FIELDS = {
    "entity_id": "pk",
    "username": "username",
    "email": "email",
    "created_at": "date_joined",
    "is_staff": "is_staff",
    "last_login": "last_login",
    "group_name": "groups__name",
}


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def query(pairs) -> QueryDict:
    """A QueryDict exactly as Django builds request.GET from an encoded query string."""
    return QueryDict(urlencode(list(pairs)))


def criteria_params(*groups, sort=(), page_size=None, current_page=None):
    """Query pairs: each group is a list of (field, value, condition_type) with value/condition optional."""
    pairs = [("searchCriteria", "")]
    for g, group in enumerate(groups):
        for f, (field, *rest) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            pairs.append((f"{prefix}[field]", field))
            if rest and rest[0] is not None:
                pairs.append((f"{prefix}[value]", rest[0]))
            if len(rest) > 1:
                pairs.append((f"{prefix}[condition_type]", rest[1]))
    for s, (field, direction) in enumerate(sort):
        pairs += [(f"searchCriteria[sortOrders][{s}][field]", field)]
        pairs += [(f"searchCriteria[sortOrders][{s}][direction]", direction)]
    if page_size is not None:
        pairs.append(("searchCriteria[pageSize]", page_size))
    if current_page is not None:
        pairs.append(("searchCriteria[currentPage]", current_page))
    return query(pairs)


def search(*groups, sort=(), page_size=None, current_page=None, queryset=None):
    """Parse, apply, evaluate: (usernames in page order, total_count)."""
    params = criteria_params(*groups, sort=sort, page_size=page_size, current_page=current_page)
    criteria = parse_search_criteria(params)
    page, total = apply_search_criteria(User.objects.all() if queryset is None else queryset, criteria, fields=FIELDS)
    return [user.username for user in page], total


def names(*groups, **kwargs) -> set[str]:
    return set(search(*groups, **kwargs)[0])


def parse_error(params) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_search_criteria(params)
    return caught.value


def apply_error(*groups, sort=()) -> InputError:
    criteria = parse_search_criteria(criteria_params(*groups, sort=sort))
    with pytest.raises(InputError) as caught:
        apply_search_criteria(User.objects.all(), criteria, fields=FIELDS)
    return caught.value


@pytest.fixture
def users():
    """alice and carol are staff; bob and dave never logged in. Created in this order (pk ascending)."""
    rows = [
        ("alice", "alice@example.com", utc(2026, 1, 1, 10, 0, 0), True, utc(2026, 2, 1)),
        ("bob", "bob@example.org", utc(2026, 1, 2), False, None),
        ("carol", "carol@example.com", utc(2026, 1, 3, 12, 0, 0), True, utc(2026, 2, 3)),
        ("dave", "dave@example.net", utc(2026, 1, 4), False, None),
    ]
    return {
        username: User.objects.create(
            username=username, email=email, date_joined=joined, is_staff=staff, last_login=login
        )
        for username, email, joined, staff, login in rows
    }


# --- parsing --------------------------------------------------------------------------------------------


def test_magento_bracket_syntax_parses_into_groups_sorts_and_paging():
    params = QueryDict(
        "searchCriteria[filter_groups][0][filters][0][field]=order_id"
        "&searchCriteria[filter_groups][0][filters][0][value]=5"
        "&searchCriteria[filter_groups][0][filters][0][condition_type]=eq"
        "&searchCriteria[sortOrders][0][field]=created_at"
        "&searchCriteria[sortOrders][0][direction]=DESC"
        "&searchCriteria[pageSize]=20"
        "&searchCriteria[currentPage]=2"
    )

    assert parse_search_criteria(params) == SearchCriteria(
        filter_groups=((Filter("order_id", "5", "eq"),),),
        sort_orders=(SortOrder("created_at", "DESC"),),
        page_size=20,
        current_page=2,
    )


def test_sparse_indexes_keep_numeric_order():
    params = query(
        [
            ("searchCriteria[filter_groups][3][filters][10][field]", "g3f10"),
            ("searchCriteria[filter_groups][3][filters][10][value]", "x"),
            ("searchCriteria[filter_groups][3][filters][2][field]", "g3f2"),
            ("searchCriteria[filter_groups][3][filters][2][value]", "x"),
            ("searchCriteria[filter_groups][0][filters][0][field]", "g0f0"),
            ("searchCriteria[filter_groups][0][filters][0][value]", "x"),
            ("searchCriteria[sortOrders][7][field]", "second"),
            ("searchCriteria[sortOrders][1][field]", "first"),
        ]
    )

    criteria = parse_search_criteria(params)

    assert [[f.field for f in group] for group in criteria.filter_groups] == [["g0f0"], ["g3f2", "g3f10"]]
    assert [s.field for s in criteria.sort_orders] == ["first", "second"]


def test_omitted_parts_take_magento_defaults():
    params = query(
        [
            ("searchCriteria[filter_groups][0][filters][0][field]", "state"),
            ("searchCriteria[filter_groups][0][filters][0][value]", "open"),
            ("searchCriteria[sortOrders][0][field]", "created_at"),
        ]
    )

    criteria = parse_search_criteria(params)

    assert criteria.filter_groups[0][0].condition_type == "eq"
    assert criteria.sort_orders[0].direction == "DESC"  # Magento sorts anything but ASC descending
    assert criteria.page_size is None
    assert criteria.current_page is None


def test_condition_type_and_direction_are_case_insensitive_and_normalized():
    params = query(
        [
            ("searchCriteria[filter_groups][0][filters][0][field]", "a"),
            ("searchCriteria[filter_groups][0][filters][0][value]", "1"),
            ("searchCriteria[filter_groups][0][filters][0][condition_type]", "GTEQ"),
            ("searchCriteria[sortOrders][0][field]", "a"),
            ("searchCriteria[sortOrders][0][direction]", "asc"),
        ]
    )

    criteria = parse_search_criteria(params)

    assert criteria.filter_groups[0][0].condition_type == "gteq"
    assert criteria.sort_orders[0].direction == "ASC"


def test_snake_and_camel_case_keys_are_both_accepted():
    snake = query(
        [
            ("searchCriteria[filter_groups][0][filters][0][field]", "a"),
            ("searchCriteria[filter_groups][0][filters][0][value]", "1"),
            ("searchCriteria[filter_groups][0][filters][0][condition_type]", "gt"),
            ("searchCriteria[sort_orders][0][field]", "a"),
            ("searchCriteria[page_size]", "5"),
            ("searchCriteria[current_page]", "2"),
        ]
    )
    camel = query(
        [
            ("searchCriteria[filterGroups][0][filters][0][field]", "a"),
            ("searchCriteria[filterGroups][0][filters][0][value]", "1"),
            ("searchCriteria[filterGroups][0][filters][0][conditionType]", "gt"),
            ("searchCriteria[sortOrders][0][field]", "a"),
            ("searchCriteria[pageSize]", "5"),
            ("searchCriteria[currentPage]", "2"),
        ]
    )

    assert parse_search_criteria(snake) == parse_search_criteria(camel)


def test_plain_dict_is_accepted_and_last_list_value_wins():
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "a",
        "searchCriteria[filter_groups][0][filters][0][value]": ["1", "2"],
        "searchCriteria[pageSize]": 10,
    }

    criteria = parse_search_criteria(params)

    assert criteria.filter_groups == ((Filter("a", "2", "eq"),),)
    assert criteria.page_size == 10


def test_null_and_notnull_need_no_value():
    params = criteria_params([("last_login", None, "null")], [("email", None, "notnull")])

    criteria = parse_search_criteria(params)

    assert criteria.filter_groups == (
        (Filter("last_login", None, "null"),),
        (Filter("email", None, "notnull"),),
    )


def test_missing_search_criteria_is_required_with_magentos_message():
    error = parse_error(QueryDict("fields=items"))

    assert error.message == '"searchCriteria" is required. Enter and try again.'
    assert error.code == "required"


def test_missing_search_criteria_is_empty_when_not_required():
    assert parse_search_criteria(QueryDict(""), required=False) == SearchCriteria((), (), None, None)


@pytest.mark.parametrize("raw", ["searchCriteria=", "searchCriteria", "searchCriteria=all"])
def test_bare_search_criteria_counts_as_present_and_empty(raw):
    criteria = parse_search_criteria(QueryDict(raw))

    assert criteria == SearchCriteria((), (), None, None)
    assert criteria.as_dict() == {"filter_groups": []}


@pytest.mark.parametrize(
    ("key", "value", "field_name"),
    [
        ("searchCriteria[pageSize]", "0", "searchCriteria[page_size]"),
        ("searchCriteria[pageSize]", "-1", "searchCriteria[page_size]"),
        ("searchCriteria[pageSize]", "10001", "searchCriteria[page_size]"),
        ("searchCriteria[pageSize]", "ten", "searchCriteria[page_size]"),
        ("searchCriteria[pageSize]", "", "searchCriteria[page_size]"),
        ("searchCriteria[currentPage]", "0", "searchCriteria[current_page]"),
        ("searchCriteria[currentPage]", "1.5", "searchCriteria[current_page]"),
        ("searchCriteria[sortOrders][0][direction]", "sideways", "searchCriteria[sort_orders][0][direction]"),
        ("searchCriteria[sortOrders][0][direction]", "", "searchCriteria[sort_orders][0][direction]"),
        (
            "searchCriteria[filter_groups][0][filters][0][condition_type]",
            "finset",
            "searchCriteria[filter_groups][0][filters][0][condition_type]",
        ),
        (
            "searchCriteria[filter_groups][0][filters][0][condition_type]",
            "regexp",
            "searchCriteria[filter_groups][0][filters][0][condition_type]",
        ),
        # A misspelt key must not be ignored silently: that would return every row.
        (
            "searchCriteria[filter_group][0][filters][0][value]",
            "5",
            "searchCriteria[filter_group][0][filters][0][value]",
        ),
        (
            "searchCriteria[filter_groups][x][filters][0][value]",
            "5",
            "searchCriteria[filter_groups][x][filters][0][value]",
        ),
        (
            "searchCriteria[filter_groups][0][filters][0][values]",
            "5",
            "searchCriteria[filter_groups][0][filters][0][values]",
        ),
        ("searchCriteria[pageSize", "5", "searchCriteria[pageSize"),
    ],
)
def test_bad_parts_are_invalid_values_named_by_their_query_key(key, value, field_name):
    pairs = [
        ("searchCriteria[filter_groups][0][filters][0][field]", "a"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "1"),
        ("searchCriteria[sortOrders][0][field]", "a"),
        (key, value),
    ]

    error = parse_error(query(pairs))

    assert error.code == "invalid_value"
    assert error.parameters == {"value": value, "fieldName": field_name}
    assert error.message == f'Invalid value of "{value}" provided for the {field_name} field.'


def test_filter_without_field_is_required():
    error = parse_error(query([("searchCriteria[filter_groups][2][filters][5][value]", "1")]))

    assert error.message == ('"searchCriteria[filter_groups][2][filters][5][field]" is required. Enter and try again.')


def test_filter_without_value_is_required_unless_null_or_notnull():
    error = parse_error(criteria_params([("username", None, "eq")]))

    assert error.message == ('"searchCriteria[filter_groups][0][filters][0][value]" is required. Enter and try again.')


def test_sort_order_without_field_is_required():
    error = parse_error(query([("searchCriteria[sortOrders][0][direction]", "ASC")]))

    assert error.message == '"searchCriteria[sort_orders][0][field]" is required. Enter and try again.'


def test_all_parse_problems_are_collected_into_one_error():
    params = query(
        [
            ("searchCriteria[filter_groups][0][filters][0][value]", "1"),
            ("searchCriteria[filter_groups][0][filters][1][field]", "a"),
            ("searchCriteria[filter_groups][0][filters][1][value]", "1"),
            ("searchCriteria[filter_groups][0][filters][1][condition_type]", "finset"),
            ("searchCriteria[sortOrders][0][field]", "a"),
            ("searchCriteria[sortOrders][0][direction]", "up"),
            ("searchCriteria[pageSize]", "0"),
        ]
    )

    error = parse_error(params)

    assert error.message == "One or more input exceptions have occurred."
    assert [e.code for e in error.errors] == ["required", "invalid_value", "invalid_value", "invalid_value"]


def test_as_dict_echoes_criteria_like_magento():
    params = criteria_params(
        [("increment_id", "1000%", "like"), ("state", "open")],
        [("customer_email", None, "null")],
        sort=[("created_at", "desc")],
        page_size="20",
        current_page="2",
    )

    assert parse_search_criteria(params).as_dict() == {
        "filter_groups": [
            {
                "filters": [
                    {"field": "increment_id", "value": "1000%", "condition_type": "like"},
                    {"field": "state", "value": "open", "condition_type": "eq"},
                ]
            },
            {"filters": [{"field": "customer_email", "condition_type": "null"}]},
        ],
        "sort_orders": [{"field": "created_at", "direction": "DESC"}],
        "page_size": 20,
        "current_page": 2,
    }


def test_as_dict_omits_what_was_not_given_but_always_has_filter_groups():
    criteria = parse_search_criteria(criteria_params([("state", "open")]))

    assert criteria.as_dict() == {
        "filter_groups": [{"filters": [{"field": "state", "value": "open", "condition_type": "eq"}]}]
    }


# --- filtering ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_filters_in_one_group_are_ored(users):
    assert names([("username", "alice"), ("username", "bob")]) == {"alice", "bob"}


@pytest.mark.django_db
def test_filter_groups_are_anded(users):
    assert names([("username", "alice"), ("username", "bob")], [("is_staff", "0")]) == {"bob"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (("username", "carol", "eq"), {"carol"}),
        (("email", "bob@example.org"), {"bob"}),  # condition_type defaults to eq
        (("username", "carol", "neq"), {"alice", "bob", "dave"}),
        (("username", "alice,dave", "in"), {"alice", "dave"}),
        (("username", "alice,dave", "nin"), {"bob", "carol"}),
        (("is_staff", "1", "eq"), {"alice", "carol"}),
        (("is_staff", "false", "eq"), {"bob", "dave"}),
        (("created_at", "2026-01-02", "gt"), {"carol", "dave"}),
        (("created_at", "2026-01-02", "gteq"), {"bob", "carol", "dave"}),
        (("created_at", "2026-01-02", "lt"), {"alice"}),
        (("created_at", "2026-01-02", "lteq"), {"alice", "bob"}),
        (("created_at", "2026-01-02", "from"), {"bob", "carol", "dave"}),
        (("created_at", "2026-01-03 12:00:00", "to"), {"alice", "bob", "carol"}),
        (("created_at", "2026-01-01 10:00:00", "eq"), {"alice"}),  # UTC, Magento's format
        (("last_login", None, "null"), {"bob", "dave"}),
        (("last_login", "ignored", "null"), {"bob", "dave"}),
        (("last_login", None, "notnull"), {"alice", "carol"}),
        (("email", "%@example.com", "like"), {"alice", "carol"}),
    ],
)
def test_each_condition_type_filters_the_queryset(users, filter_, expected):
    assert names([filter_]) == expected


@pytest.mark.django_db
def test_integer_conditions_coerce_through_the_model_field(users):
    alice, bob, carol, dave = (users[n].pk for n in ("alice", "bob", "carol", "dave"))

    assert names([("entity_id", str(bob), "eq")]) == {"bob"}
    assert names([("entity_id", f"{alice}, {dave}", "in")]) == {"alice", "dave"}
    assert names([("entity_id", str(carol), "gteq")], [("entity_id", str(carol), "lteq")]) == {"carol"}
    assert names([("entity_id", str(bob), "from")], [("entity_id", str(carol), "to")]) == {"bob", "carol"}


@pytest.mark.django_db
def test_datetimes_are_utc_even_without_use_tz(settings):
    settings.USE_TZ = False
    settings.TIME_ZONE = "Europe/Berlin"
    criteria = parse_search_criteria(criteria_params([("created_at", "2026-01-01 10:00:00", "gteq")]))

    page, _ = apply_search_criteria(User.objects.all(), criteria, fields=FIELDS)

    # 10:00 UTC is 11:00 naive Berlin time (SQLite binds it as text, PostgreSQL as a datetime).
    assert [str(param) for param in page.query.sql_with_params()[1]] == ["2026-01-01 11:00:00"]


@pytest.mark.django_db
def test_neq_and_nin_never_match_null_like_sql(users):
    alice_login = "2026-02-01 00:00:00"

    assert names([("last_login", alice_login, "neq")]) == {"carol"}
    assert names([("last_login", alice_login, "nin")]) == {"carol"}


@pytest.mark.django_db
def test_filtering_across_a_to_many_relation_does_not_duplicate_rows(users):
    for name in ("ops", "ops-eu"):
        Group.objects.create(name=name).user_set.add(users["alice"])

    assert search([("group_name", "ops%", "like")]) == (["alice"], 1)


# --- like -----------------------------------------------------------------------------------------------


@pytest.fixture
def like_users():
    for username in ("abc", "abbc", "ac", "a_c", "xabcx", "50%off", "back\\slash"):
        User.objects.create(username=username)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("abc", {"abc"}),  # no wildcard: equality
        ("ab%", {"abc", "abbc"}),  # trailing %
        ("%bc", {"abc", "abbc"}),  # leading %
        ("%bc%", {"abc", "abbc", "xabcx"}),  # both
        ("a%c", {"abc", "abbc", "ac", "a_c"}),  # in the middle
        ("a_c", {"abc", "a_c"}),  # _ is exactly one character
        ("_b%", {"abc", "abbc"}),
        ("a\\_c", {"a_c"}),  # backslash escapes a wildcard
        ("50\\%%", {"50%off"}),
        ("back\\\\slash", {"back\\slash"}),
        ("abc\\", set()),  # trailing lone backslash is a literal, not a database error
    ],
)
def test_like_is_sql_like_with_percent_and_underscore_wildcards(like_users, pattern, expected):
    assert names([("username", pattern, "like")]) == expected


def _reference_like(pattern: str, value: str) -> bool:
    """Magento/MySQL LIKE in Python: % any run, _ one char, backslash escapes, a trailing one is literal."""
    regex, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            regex.append(re.escape(next(chars, "\\")))
        else:
            regex.append({"%": ".*", "_": "."}.get(char, re.escape(char)))
    return re.fullmatch("".join(regex), value, flags=re.DOTALL) is not None


@pytest.mark.django_db
def test_like_agrees_with_reference_semantics_for_every_short_pattern():
    alphabet = "ab_%\\"
    values = ["".join(p) for n in range(4) for p in itertools.product(alphabet, repeat=n)]
    User.objects.bulk_create([User(username=value) for value in values])
    patterns = ["".join(p) for n in range(1, 4) for p in itertools.product("a_%\\", repeat=n)]

    for pattern in patterns:
        got = set(User.objects.filter(username__magento_like=pattern).values_list("username", flat=True))
        expected = {value for value in values if _reference_like(pattern, value)}
        assert got == expected, (pattern, like_pattern(pattern))


# --- sorting --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sort_orders_apply_in_order_with_their_directions(users):
    assert search(sort=[("is_staff", "DESC"), ("username", "ASC")])[0] == ["alice", "carol", "bob", "dave"]
    assert search(sort=[("is_staff", "ASC"), ("username", "DESC")])[0] == ["dave", "bob", "carol", "alice"]


@pytest.mark.django_db
def test_ties_are_broken_by_pk_for_stable_pages(users):
    page, _ = apply_search_criteria(
        User.objects.all(),
        SearchCriteria((), (SortOrder("is_staff", "DESC"),), None, None),
        fields=FIELDS,
    )

    assert page.query.order_by == ("-is_staff", "pk")
    assert [u.username for u in page] == ["alice", "carol", "bob", "dave"]


@pytest.mark.django_db
def test_default_ordering_applies_when_no_sort_order_is_given(users):
    assert search()[0] == ["dave", "carol", "bob", "alice"]  # default ("-pk",)

    page, _ = apply_search_criteria(User.objects.all(), SearchCriteria(), fields=FIELDS, default_ordering=("is_staff",))
    assert [u.username for u in page] == ["bob", "dave", "alice", "carol"]


# --- paging ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_slice_the_ordered_rows_and_total_count_counts_them_all(users):
    sort = [("username", "ASC")]

    assert search(sort=sort, page_size="3") == (["alice", "bob", "carol"], 4)
    assert search(sort=sort, page_size="3", current_page="1") == (["alice", "bob", "carol"], 4)
    assert search(sort=sort, page_size="3", current_page="2") == (["dave"], 4)


@pytest.mark.django_db
def test_total_count_counts_the_filtered_rows_not_the_page(users):
    assert search([("is_staff", "0")], sort=[("username", "ASC")], page_size="1") == (["bob"], 2)


@pytest.mark.django_db
def test_a_page_beyond_the_last_is_empty_not_clamped(users):
    assert search(page_size="3", current_page="3") == ([], 4)
    assert search(page_size="10", current_page="999999999999") == ([], 4)


@pytest.mark.django_db
def test_without_page_size_everything_is_page_one(users):
    assert search(sort=[("username", "ASC")]) == (["alice", "bob", "carol", "dave"], 4)
    assert search(current_page="2") == ([], 4)


@pytest.mark.django_db
def test_apply_runs_only_the_count_query_and_leaves_the_page_unevaluated(users, django_assert_num_queries):
    criteria = parse_search_criteria(criteria_params([("is_staff", "1")], page_size="1", current_page="2"))

    with django_assert_num_queries(1):
        page, total = apply_search_criteria(User.objects.all(), criteria, fields=FIELDS)

    assert total == 2
    assert page._result_cache is None
    with django_assert_num_queries(1):
        assert [u.username for u in page] == ["alice"]


@pytest.mark.django_db
def test_apply_runs_only_the_count_query_for_a_page_beyond_the_last(users, django_assert_num_queries):
    criteria = parse_search_criteria(criteria_params(page_size="2", current_page="5"))

    with django_assert_num_queries(1):
        page, total = apply_search_criteria(User.objects.all(), criteria, fields=FIELDS)

    assert total == 4
    with django_assert_num_queries(0):
        assert list(page) == []


@pytest.mark.django_db
def test_the_page_still_takes_select_and_prefetch_related(users):
    criteria = parse_search_criteria(criteria_params(sort=[("username", "ASC")], page_size="2"))
    page, _ = apply_search_criteria(User.objects.all(), criteria, fields=FIELDS)

    assert [u.username for u in page.prefetch_related("groups")] == ["alice", "bob"]


# --- bad values while applying --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("groups", "sort", "field_name", "value"),
    [
        ([[("password", "x")]], (), "field", "password"),
        ([], [("password", "ASC")], "field", "password"),
        ([[("entity_id", "abc")]], (), "entity_id", "abc"),
        ([[("entity_id", "")]], (), "entity_id", ""),
        ([[("entity_id", "1,two", "in")]], (), "entity_id", "two"),
        ([[("entity_id", "99999999999999999999", "gt")]], (), "entity_id", "99999999999999999999"),
        ([[("created_at", "2026-13-01", "gteq")]], (), "created_at", "2026-13-01"),
        ([[("created_at", "yesterday", "lt")]], (), "created_at", "yesterday"),
        ([[("is_staff", "maybe")]], (), "is_staff", "maybe"),
        ([[("entity_id", "1%", "like")]], (), "condition_type", "like"),
    ],
)
def test_bad_fields_and_values_are_invalid_values(groups, sort, field_name, value):
    error = apply_error(*groups, sort=sort)

    assert error.code == "invalid_value"
    assert error.parameters == {"value": value, "fieldName": field_name}


@pytest.mark.django_db
def test_all_apply_problems_are_collected_into_one_error():
    error = apply_error([("password", "x"), ("entity_id", "abc")], sort=[("password", "ASC")])

    assert error.message == "One or more input exceptions have occurred."
    assert [e.message for e in error.errors] == [
        'Invalid value of "password" provided for the field field.',
        'Invalid value of "abc" provided for the entity_id field.',
    ]
