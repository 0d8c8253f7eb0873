from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import HealthView

admin.site.site_header = "Counterfoil"
admin.site.site_title = "Counterfoil"
admin.site.index_title = "Back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("rest/", include("sales.api.v1.urls")),
    path("api2/", include("sales.api.api2.urls")),
    path("api/health", HealthView.as_view(), name="health"),  # load balancers' liveness probe, no auth
    # The OpenAPI 3 document of both doors, public like Magento's /rest/schema; Swagger UI reads it.
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="openapi-docs"),
]
