from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from sales.api.api2 import views
from sales.api.api2.errors import NOT_FOUND


@csrf_exempt  # a token API: a POST to no route is this door's 404, not Django's CSRF page
def no_route(request, *args, **kwargs):
    return JsonResponse({"error": NOT_FOUND}, status=404)


urlpatterns = [
    path("invoice", views.InvoiceListView.as_view()),
    path("invoices", views.InvoiceListView.as_view()),  # the plural alias
    path("invoice/create", views.InvoiceCreateView.as_view()),
    path("invoice/email", views.InvoiceEmailView.as_view()),
    re_path(r"^", no_route),  # any other path under /api2/ answers in /api2's shape, not Django's HTML page
]
