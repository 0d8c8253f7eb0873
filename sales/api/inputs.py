"""What both doors' input serializers share: a body is parsed and validated only by an input serializer.

A view builds its route's input serializer on ``request.data``, calls ``is_valid(raise_exception=True)`` and
hands ``validated_data`` to one service (DRF's mixins, HackSoft's ``InputSerializer``). A refusal is an
``InputInvalid`` listing each ``Problem`` in the order the door reports them: its field path (``items[1].qty``),
its kind (required, invalid), the value sent and the door's own text; each door's ``errors.py`` renders them in
its envelope. The same classes are the routes' OpenAPI request schemas.

Fields subclass DRF's (so drf-spectacular documents them as it documents DRF's) but parse in one step: absent
is required or the default, anything else goes to ``to_internal_value``, which raises ``InputInvalid``. DRF's
empty-value and validator passes are skipped: each door has its own rules for null and for bounds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any, ClassVar, NoReturn

from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.utils.serializer_helpers import BindingDict


class Kind(enum.StrEnum):
    REQUIRED = "required"  # absent (or, where the door says so, null or blank)
    INVALID = "invalid"  # present, but not a value the field takes


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a body: where (a path from the body's root), what, the value sent, the door's text."""

    path: str
    kind: Kind
    value: Any = None
    message: str = ""
    rooted: bool = False  # the path is already the body's (Magento names some nested flags without their parent)

    def under(self, name: str) -> Problem:
        """This problem seen from the parent that holds it under ``name`` (a key, or ``[index]`` of a list)."""
        if self.rooted:
            return self
        if not self.path:
            return replace(self, path=name)
        return replace(self, path=f"{name}{self.path}" if self.path.startswith("[") else f"{name}.{self.path}")


class InputInvalid(serializers.ValidationError):
    """The problems of a refused body, in the order its door reports them. ``detail`` is DRF's usual
    ``{path: [text]}`` for anything that reads it; the doors render ``problems``."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        details: dict[str, list[str]] = {}
        for problem in problems:
            details.setdefault(problem.path, []).append(problem.message or problem.kind.value)
        super().__init__(details)


def refuse(kind: Kind, value: Any = None, message: str = "", *, path: str = "") -> NoReturn:
    raise InputInvalid([Problem(path, kind, value, message)])


def nested_problems(name: str, invalid: InputInvalid) -> list[Problem]:
    return [problem.under(name) for problem in invalid.problems]


class InputField(serializers.Field):
    """A field that parses in one step (see the module's docstring). ``message`` is its door's text when it
    refuses a value (``{name}`` is the field's name); null is a value like any other unless ``allow_null``."""

    default_message = ""

    def __init__(self, *, message: str = "", **kwargs: Any):
        self.message = message or self.default_message
        super().__init__(**kwargs)

    def refuse(self, kind: Kind, value: Any = None) -> NoReturn:
        refuse(kind, value, self.message.format(name=self.field_name))

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty:
            if self.required:
                self.refuse(Kind.REQUIRED)
            return self.get_default()  # SkipField when the field has no default: left out of validated_data
        if data is None and self.allow_null:
            return None
        return self.to_internal_value(data)


class InputSerializer(serializers.Serializer):
    """A body (or a nested object of one): its fields parsed in declaration order.

    ``stop_at_first`` (the default) reports the first field's problems only, as a hand-written parser that
    returns at the first bad field does; ``False`` reports every field's. ``check_body`` runs first: the door's
    rules for the whole object (an object at all, unknown names, NUL characters, fields that exclude each other).
    ``build`` turns the parsed fields into the service's arguments.
    """

    stop_at_first: ClassVar[bool] = True
    fields_rooted: ClassVar[bool] = False  # its fields' problems are named from the body's root
    _bound_fields: ClassVar[tuple[BindingDict, tuple[tuple[str, serializers.Field], ...]]]

    @property
    def fields(self) -> BindingDict:
        return self.bound_fields()[0]

    @classmethod
    def bound_fields(cls) -> tuple[BindingDict, tuple[tuple[str, serializers.Field], ...]]:
        """The class's fields, bound once; and as (name, field) pairs, for the parsing loop.

        DRF deep-copies every declared field for each serializer it builds (a field may keep state between its
        binding and its use): ~0.7 ms for a 3-row invoice body, ten times the hand-written parser's whole cost.
        Input fields keep none (they read only their own name), so each class binds one copy, on a prototype."""
        bound = cls.__dict__.get("_bound_fields")
        if bound is None:
            prototype = cls()
            fields = BindingDict(prototype)  # as DRF's Serializer.fields builds it, once
            for name, field in prototype.get_fields().items():
                fields[name] = field
            bound = (fields, tuple(fields.items()))
            cls._bound_fields = bound
        return bound

    @classmethod
    def parse(cls, data: Any) -> Any:
        """What ``is_valid(raise_exception=True)`` then ``validated_data`` give, without building a serializer:
        DRF's serializer and field constructors cost ~15 µs, three times a whole query string's parsing. For a hot
        read route (``GET /api2/invoice``) whose input reads no ``context`` (the class's prototype has none)."""
        return cls.bound_fields()[0].serializer.run_validation(data)

    def takes(self, name: str) -> bool:
        """Whether a field of this object has this name."""
        return name in self.bound_fields()[0]

    def check_body(self, data: Any) -> None:
        if not isinstance(data, dict):
            refuse(Kind.INVALID, type(data).__name__)

    def build(self, values: dict[str, Any]) -> Any:
        return values

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty:  # a nested object absent from its parent
            if self.required:
                refuse(Kind.REQUIRED)
            return self.get_default()
        if data is None and self.allow_null:
            return None
        return self.to_internal_value(data)

    def to_internal_value(self, data: Any) -> Any:
        self.check_body(data)
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, field in self.bound_fields()[1]:
            try:
                values[name] = field.run_validation(data.get(name, empty))
            except SkipField:
                continue
            except InputInvalid as invalid:
                found = nested_problems(name, invalid)
                if self.fields_rooted:
                    found = [replace(problem, rooted=True) for problem in found]
                problems.extend(found)
                if self.stop_at_first:
                    break
        if problems:
            raise InputInvalid(problems)
        return self.build(values)

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        # DRF's is_valid re-raises a new ValidationError from ``errors``: the problems (and their values, which
        # Magento's texts quote) would be lost. Same contract, the original exception.
        try:
            self._validated_data = self.run_validation(self.initial_data)
        except InputInvalid as invalid:
            self._validated_data = {}
            self._errors = invalid.detail
            if raise_exception:
                raise
            return False
        self._errors = {}
        return True
