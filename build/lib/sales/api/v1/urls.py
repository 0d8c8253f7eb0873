"""Magento's REST routes, under ``/rest/V1/``, ``/rest/<store_code>/V1/`` (``default``, ``all``, ...)."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from sales.api.v1 import inventory, views
from sales.api.v1.errors import NO_ROUTE, envelope

v1 = [
    path("integration/admin/token", views.AdminTokenView.as_view()),
    path("orders", views.OrderCollectionView.as_view()),
    path("orders/create", views.OrderCreateView.as_view()),
    path("orders/<int:order_id>", views.OrderDetailView.as_view()),
    path("orders/<int:order_id>/statuses", views.OrderStatusView.as_view()),
    path("orders/<int:order_id>/comments", views.OrderCommentsView.as_view()),
    path("order/<int:order_id>/invoice", views.OrderInvoiceView.as_view()),
    path("invoices", views.InvoiceCollectionView.as_view()),
    path("invoices/comments", views.InvoiceCommentCreateView.as_view()),
    path("invoices/<int:invoice_id>", views.InvoiceDetailView.as_view()),
    path("invoices/<int:invoice_id>/comments", views.InvoiceCommentsView.as_view()),
    path("invoices/<int:invoice_id>/emails", views.InvoiceEmailsView.as_view()),
    path("invoices/<int:invoice_id>/capture", views.InvoiceCaptureView.as_view()),
    path("invoices/<int:invoice_id>/void", views.InvoiceVoidView.as_view()),
    path("invoices/<int:invoice_id>/cancel", views.InvoiceCancelView.as_view()),
    path("transactions", views.TransactionCollectionView.as_view()),
    path("transactions/<int:transaction_id>", views.TransactionDetailView.as_view()),
    path("inventory/sources", inventory.SourceCollectionView.as_view()),
    path("inventory/sources/<str:source_code>", inventory.SourceDetailView.as_view()),
    path("inventory/stocks", inventory.StockCollectionView.as_view()),
    path("inventory/stocks/<str:stock_id>", inventory.StockDetailView.as_view()),
    path("inventory/stock-source-links", inventory.StockSourceLinkCollectionView.as_view()),
    path(
        "inventory/get-sources-assigned-to-stock-ordered-by-priority/<str:stock_id>",
        inventory.SourcesByPriorityView.as_view(),
    ),
    path("inventory/source-items", inventory.SourceItemCollectionView.as_view()),
    # A SKU may hold slashes (sent as %2F): everything up to the last segment is the SKU.
    re_path(
        r"^inventory/get-product-salable-quantity/(?P<sku>.+)/(?P<stock_id>[^/]+)$", inventory.SalableQtyView.as_view()
    ),
]


@csrf_exempt  # a Bearer-token API: a POST to no route is Magento's 404, not Django's CSRF page
def no_route(request, *args, **kwargs):
    from django.http import JsonResponse

    return JsonResponse(envelope(NO_ROUTE), status=404)


urlpatterns = [
    path("V1/", include(v1)),
    path("<slug:store_code>/V1/", include(v1)),
    re_path(r"^", no_route),
]
