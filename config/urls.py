from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Counterfoil"
admin.site.site_title = "Counterfoil"
admin.site.index_title = "Back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("rest/", include("sales.api.v1.urls")),
    path("api2/", include("sales.api.api2.urls")),
]
