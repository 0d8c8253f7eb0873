from django.urls import path

from sales.api.api2 import views

urlpatterns = [
    path("invoice", views.InvoiceListView.as_view()),
    path("invoices", views.InvoiceListView.as_view()),  # the plural alias
    path("invoice/create", views.InvoiceCreateView.as_view()),
    path("invoice/email", views.InvoiceEmailView.as_view()),
]
