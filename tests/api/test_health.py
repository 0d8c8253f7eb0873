"""``GET /api/health``: what a load balancer asks, answered without a token or a query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_health_answers_ok_without_a_token_or_a_database_query(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/health")

    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(queries.captured_queries) == 0
