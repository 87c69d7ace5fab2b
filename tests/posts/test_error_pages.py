import pytest
from django.test import Client
from django.urls import path

from clarion.urls import urlpatterns as site_urls


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [path("broken/", broken), *site_urls]
handler404 = "clarion.theme.views.page_not_found"
handler500 = "clarion.theme.views.server_error"


@pytest.mark.urls("tests.posts.test_error_pages")
def test_a_crash_shows_the_themed_500_page_without_a_traceback(db):
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "RuntimeError" not in body and "Traceback" not in body


def test_a_missing_page_is_the_themed_404(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "Subscribe to Blog" in body  # the sidebar is there: the theme, not Django's page
