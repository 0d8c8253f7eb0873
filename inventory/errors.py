"""What the inventory services refuse, with Magento's message templates (``%1`` / ``%name`` placeholders).

The app never imports ``sales``, so these are its own exceptions; the callers map them to their
domain errors (``sales.errors``), which the doors render in their envelopes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class InventoryError(Exception):
    """Base of every refusal of the inventory services."""

    code = "inventory_error"

    def __init__(self, template: str, parameters: Sequence | Mapping | None = None):
        self.template = template
        self.parameters = parameters if parameters is not None else []
        super().__init__(template)


class NotEnoughStock(InventoryError):
    """The sources cannot cover the quantity (Magento's SourceDeductionService)."""

    code = "not_enough_stock"
    MESSAGE = "Not all of your products are available in the requested quantity."

    def __init__(self, skus: Sequence[str] = ()):
        super().__init__(self.MESSAGE)
        self.skus = list(skus)  # for logs and tests; Magento's message names none


class InventoryNoSuchEntity(InventoryError):
    """A source, stock or product that does not exist (Magento's NoSuchEntityException), 404."""

    code = "no_such_entity"

    @classmethod
    def source(cls, source_code: str) -> InventoryNoSuchEntity:
        return cls('Source with code "%value" does not exist.', {"value": source_code})

    @classmethod
    def stock(cls, stock_id: object) -> InventoryNoSuchEntity:
        return cls('Stock with id "%value" does not exist.', {"value": stock_id})

    @classmethod
    def product(cls) -> InventoryNoSuchEntity:
        return cls("The product that was requested doesn't exist. Verify the product and try again.")


class InventoryValidationError(InventoryError):
    """Source items that may not be saved (Magento's ValidationException): every problem, 400.

    ``template`` is Magento's ``Validation Failed: <first problem>``; ``errors`` lists each problem as
    ``(template, parameters)``.
    """

    code = "validation_failed"

    def __init__(self, errors: list[tuple[str, dict]]):
        self.errors = errors
        first_template, first_parameters = errors[0]
        first = first_template
        for key, value in first_parameters.items():
            first = first.replace(f"%{key}", str(value))
        super().__init__(f"Validation Failed: {first}")


class InventoryInputError(InventoryError):
    """A request without the data it needs (Magento's InputException), 400."""

    code = "invalid_input"
