"""Magento's Inventory (MSI) routes under /V1: sources, stocks, source items and the salable quantity.

The doors of the ``inventory`` app live with the other /V1 doors: they share the Bearer auth, the
route's ACL resource, Magento's JSON and error envelope, and searchCriteria. They call
``inventory.services`` and ``inventory.selectors`` directly (as the transaction routes call
``payments``) and map the inventory's refusals to the sales domain errors the envelope renders, through
the one mapping (``sales.stock.inventory_errors_as_domain_errors``).
ACL resources are Magento's (``InventoryApi/etc/webapi.xml``, ``InventorySalesApi/etc/webapi.xml``).
A body, and the ``{stockId}`` of a path, are parsed only by their input serializers (``sales.api.v1.inputs``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from audit.models import AuditAction
from inventory import selectors
from inventory.errors import InventoryNoSuchEntity
from inventory.models import Source, SourceItem, Stock, StockSourceLink
from sales.api import schema as doc
from sales.api.v1 import inputs
from sales.api.v1.base import MagentoView
from sales.api.v1.search_criteria import apply_search_criteria, parse_search_criteria
from sales.stock import inventory_errors_as_domain_errors, source_items_save


def stock_id_of(raw: str) -> int:
    """The ``{stockId}`` of a route's path, as a number (Magento's invalid value of ``stockId`` otherwise)."""
    path = inputs.StockPathInput(data={"stockId": raw})
    path.is_valid(raise_exception=True)
    return path.validated_data


def search_result(queryset, query_params, *, fields: dict[str, str], render, required: bool):
    """Magento's searchResults: ``{"items", "search_criteria", "total_count"}``."""
    criteria = parse_search_criteria(query_params, required=required)
    page, total_count = apply_search_criteria(queryset, criteria, fields=fields, default_ordering=("pk",))
    return Response(
        {"items": [render(row) for row in page], "search_criteria": criteria.as_dict(), "total_count": total_count}
    )


# -- representations (Magento's Api/Data interfaces; null fields omitted, as Magento does) -------------

SOURCE_FIELDS = (
    "source_code",
    "name",
    "email",
    "contact_name",
    "enabled",
    "description",
    "latitude",
    "longitude",
    "country_id",
    "region_id",
    "region",
    "city",
    "street",
    "postcode",
    "phone",
    "fax",
    "use_default_carrier_config",
)


def source_dict(source: Source) -> dict:
    data = {name: getattr(source, name) for name in SOURCE_FIELDS if getattr(source, name) is not None}
    data["carrier_links"] = []  # carriers are not modelled: every source uses the default carrier config
    return data


def source_item_dict(item: SourceItem) -> dict:
    return {"sku": item.sku, "source_code": item.source_id, "quantity": item.quantity, "status": item.status}


def stock_dict(stock: Stock) -> dict:
    return {"stock_id": stock.stock_id, "name": stock.name}


def stock_source_link_dict(link: StockSourceLink) -> dict:
    return {"stock_id": link.stock_id, "source_code": link.source_id, "priority": link.priority}


# -- sources and stocks ----------------------------------------------------------------------------

SOURCE_SEARCH_FIELDS = {name: name for name in SOURCE_FIELDS}
STOCK_SEARCH_FIELDS = {"stock_id": "stock_id", "name": "name"}
STOCK_SOURCE_LINK_SEARCH_FIELDS = {"stock_id": "stock_id", "source_code": "source__source_code", "priority": "priority"}


class SourceCollectionView(MagentoView):
    """``GET /V1/inventory/sources``: searchCriteria optional (Magento's getList defaults to all)."""

    default_acl_resource = "Magento_InventoryApi::source"

    @extend_schema(
        summary="Search sources",
        parameters=doc.search_criteria_parameters(SOURCE_SEARCH_FIELDS, required=False),
        responses={200: doc.SourceSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        return search_result(
            selectors.sources(), request.query_params, fields=SOURCE_SEARCH_FIELDS, render=source_dict, required=False
        )


class SourceDetailView(MagentoView):
    """``GET /V1/inventory/sources/{sourceCode}``."""

    default_acl_resource = "Magento_InventoryApi::source"

    @extend_schema(
        summary="Get a source",
        parameters=[doc.SOURCE_CODE],
        responses={200: doc.SourceSerializer, **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, source_code, **kwargs):
        source = selectors.sources().filter(source_code=source_code).first()
        if source is None:
            with inventory_errors_as_domain_errors():
                raise InventoryNoSuchEntity.source(source_code)
        return Response(source_dict(source))


class StockCollectionView(MagentoView):
    """``GET /V1/inventory/stocks``: searchCriteria optional."""

    default_acl_resource = "Magento_InventoryApi::stock"

    @extend_schema(
        summary="Search stocks",
        parameters=doc.search_criteria_parameters(STOCK_SEARCH_FIELDS, required=False),
        responses={200: doc.StockSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        return search_result(
            selectors.stocks(), request.query_params, fields=STOCK_SEARCH_FIELDS, render=stock_dict, required=False
        )


class StockDetailView(MagentoView):
    """``GET /V1/inventory/stocks/{stockId}``."""

    default_acl_resource = "Magento_InventoryApi::stock"

    @extend_schema(
        summary="Get a stock",
        parameters=[doc.STOCK_ID],
        responses={200: doc.StockSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, stock_id, **kwargs):
        stock_id = stock_id_of(stock_id)
        stock = selectors.stocks().filter(pk=stock_id).first()
        if stock is None:
            with inventory_errors_as_domain_errors():
                raise InventoryNoSuchEntity.stock(stock_id)
        return Response(stock_dict(stock))


class StockSourceLinkCollectionView(MagentoView):
    """``GET /V1/inventory/stock-source-links``: which sources a stock sells from, and their priority."""

    default_acl_resource = "Magento_InventoryApi::stock_source_link"

    @extend_schema(
        summary="Search stock-source links",
        parameters=doc.search_criteria_parameters(STOCK_SOURCE_LINK_SEARCH_FIELDS, required=True),
        responses={200: doc.StockSourceLinkSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        return search_result(
            selectors.stock_source_links(),
            request.query_params,
            fields=STOCK_SOURCE_LINK_SEARCH_FIELDS,
            render=stock_source_link_dict,
            required=True,
        )


class SourcesByPriorityView(MagentoView):
    """``GET /V1/inventory/get-sources-assigned-to-stock-ordered-by-priority/{stockId}``: a bare array."""

    default_acl_resource = "Magento_InventoryApi::source"

    @extend_schema(
        summary="A stock's sources, by priority",
        parameters=[doc.STOCK_ID],
        responses={200: doc.SourceSerializer(many=True), **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, stock_id, **kwargs):
        stock_id = stock_id_of(stock_id)
        links = selectors.stock_source_links().filter(stock_id=stock_id).select_related("source")
        return Response([source_dict(link.source) for link in links.order_by("priority", "source_id")])


# -- source items ----------------------------------------------------------------------------------

SOURCE_ITEM_SEARCH_FIELDS = {
    "sku": "sku",
    "source_code": "source__source_code",
    "quantity": "quantity",
    "status": "status",
}


class SourceItemCollectionView(MagentoView):
    """``GET /V1/inventory/source-items`` (searchCriteria required) and ``POST`` (set quantities; answers ``[]``)."""

    acl_resources = {"GET": "Magento_InventoryApi::source", "POST": "Magento_InventoryApi::stock_source_item_assign"}
    audit_actions = {"POST": AuditAction.SOURCE_ITEMS_SAVE}

    def audit_detail(self) -> str:
        """The quantities set, as far as the detail holds them: ``sku@source=qty``."""
        body = self.request.__dict__.get("_full_data")
        items = body.get("sourceItems") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return super().audit_detail()
        shown = [f"{i.get('sku')}@{i.get('source_code')}={i.get('quantity')}" for i in items if isinstance(i, dict)]
        return f"{len(items)} source item(s): {', '.join(shown)}"

    @extend_schema(
        summary="Search source items",
        parameters=doc.search_criteria_parameters(SOURCE_ITEM_SEARCH_FIELDS, required=True),
        responses={200: doc.SourceItemSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        return search_result(
            selectors.source_items(),
            request.query_params,
            fields=SOURCE_ITEM_SEARCH_FIELDS,
            render=source_item_dict,
            required=True,
        )

    @extend_schema(
        summary="Save source items' quantities",
        request=inputs.SourceItemsSaveInput,
        responses={200: OpenApiResponse(doc.EMPTY_ARRAY), **doc.v1_errors(400, 401, 404, 429)},
    )
    def post(self, request, **kwargs):
        body = inputs.SourceItemsSaveInput(data=request.data)
        body.is_valid(raise_exception=True)
        with inventory_errors_as_domain_errors():
            source_items_save(**body.validated_data)  # re-run after a lost race (sales.locking.retry_transient)
        return Response([])  # Magento's answer to a void service method


# -- salable quantity ------------------------------------------------------------------------------


class SalableQtyView(MagentoView):
    """``GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}``: a bare JSON number."""

    default_acl_resource = "Magento_InventorySalesApi::stock"

    @extend_schema(
        summary="A SKU's salable quantity in a stock",
        parameters=[doc.SKU, doc.STOCK_ID],
        responses={200: OpenApiResponse(doc.BARE_QTY), **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, sku, stock_id, **kwargs):
        stock_id = stock_id_of(stock_id)
        with inventory_errors_as_domain_errors():
            return Response(selectors.salable_qty_get(sku=sku, stock_id=stock_id))
