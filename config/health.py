"""``GET /api/health``: a liveness probe for load balancers (and the benchmarks' trivial baseline)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthView(APIView):
    """``{"status": "ok"}`` while the process serves requests; touches no database, no cache."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(exclude=True)  # infrastructure, not part of either API door's document
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
