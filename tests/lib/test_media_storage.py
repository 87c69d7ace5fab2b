import pytest

from clarion.lib.config import media_storage


def test_it_keeps_uploads_on_disk_by_default():
    assert media_storage("") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_it_configures_django_storages_for_an_s3_compatible_service():
    storage = media_storage(
        "s3://clarion-media/uploads?endpoint_url=https://s3.example.net&region_name=eu-west-1"
        "&custom_domain=media.example.org"
    )
    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "clarion-media",
            "location": "uploads",
            "file_overwrite": False,
            "endpoint_url": "https://s3.example.net",
            "region_name": "eu-west-1",
            "custom_domain": "media.example.org",
            "querystring_auth": False,
        },
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://bucket", "expected s3://bucket"),
        ("s3://bucket?acl=public", "unknown option 'acl'"),
    ],
)
def test_it_names_the_problem_in_a_bad_url(url, message):
    with pytest.raises(SystemExit, match=message):
        media_storage(url)


def test_it_builds_public_urls_through_django_storages_without_a_network_call():
    pytest.importorskip("storages", reason="django-storages is the optional 'clarion[s3]' extra")
    from django.utils.module_loading import import_string

    config = media_storage("s3://clarion-media/uploads?custom_domain=media.example.org")
    storage = import_string(config["BACKEND"])(**config["OPTIONS"])
    assert storage.url("authors/alton.jpg") == "https://media.example.org/uploads/authors/alton.jpg"
