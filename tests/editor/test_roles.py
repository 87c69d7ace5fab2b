import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import RequestFactory

from clarion.posts.models import Author, Post

from .conftest import post_form

pytestmark = pytest.mark.django_db

ADD = "/admin/posts/post/add/"
SETTINGS = "/admin/posts/sitesettings/"
USERS = "/admin/auth/user/"


def change_url(post):
    return f"/admin/posts/post/{post.pk}/change/"


def perms(role):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }


@pytest.fixture
def others_post(make_post):
    """A draft by Alice, who is not the user under test."""
    return make_post("Alice's draft", status=Post.Status.DRAFT)


def test_setup_roles_is_idempotent_and_grants_each_role(capsys):
    call_command("setup_roles")
    first = {g.name: set(g.permissions.all()) for g in Group.objects.all()}
    call_command("setup_roles")
    assert {g.name: set(g.permissions.all()) for g in Group.objects.all()} == first
    assert set(first) >= {"Administrator", "Editor", "Author", "Contributor"}
    assert perms("Administrator") >= {"posts.change_sitesettings", "auth.change_user"}
    assert {"editor.publish_post", "editor.edit_any_post"} <= perms("Editor")
    assert "posts.change_sitesettings" not in perms("Editor")
    assert "editor.publish_post" in perms("Author")
    assert "editor.edit_any_post" not in perms("Author")
    assert "editor.publish_post" not in perms("Contributor")
    assert "Editor:" in capsys.readouterr().out


def test_setup_roles_keeps_hand_given_permissions_unless_reset():
    extra = Permission.objects.get(codename="change_sitesettings")
    Group.objects.get(name="Editor").permissions.add(extra)
    call_command("setup_roles")
    assert "posts.change_sitesettings" in perms("Editor")
    call_command("setup_roles", "--reset")
    assert "posts.change_sitesettings" not in perms("Editor")


def test_editors_get_read_only_subscribers_once_the_newsletter_has_them():
    content_type, _ = ContentType.objects.get_or_create(app_label="newsletter", model="subscriber")
    for action in ("view", "change", "delete"):
        Permission.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_subscriber",
            defaults={"name": f"Can {action} subscriber"},
        )
    call_command("setup_roles")
    assert "newsletter.view_subscriber" in perms("Editor")
    assert "newsletter.change_subscriber" not in perms("Editor")
    assert "newsletter.view_subscriber" not in perms("Author")


def test_giving_a_role_lets_the_user_into_the_admin(client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("newbie", password="x" * 20)
    user.groups.add(Group.objects.get(name="Contributor"))
    user.refresh_from_db()
    assert user.is_staff is True


class TestContributor:
    @pytest.fixture
    def c(self, make_user, signed_in):
        self.user = make_user("cora", "Contributor")
        return signed_in(self.user)

    def test_it_writes_own_drafts(self, c):
        response = c.post(ADD, post_form(title="My draft", _save_draft="1"))
        assert response.status_code == 302
        post = Post.objects.get(title="My draft")
        assert post.status == Post.Status.DRAFT
        assert post.author.user == self.user
        page = c.get(ADD).content.decode()
        assert 'name="_publish"' not in page and 'name="_schedule"' not in page

    def test_it_cannot_publish(self, c):
        response = c.post(ADD, post_form(title="Sneaky", _publish="1"))
        assert response.status_code == 200
        assert "an editor or author publishes it" in response.content.decode()
        response = c.post(ADD, post_form(title="Sneaky", status="published", _continue="1"))
        assert response.status_code == 200
        assert not Post.objects.filter(title="Sneaky").exists()

    def test_it_cannot_schedule(self, c):
        from datetime import timedelta

        from django.utils import timezone

        later = timezone.now() + timedelta(days=1)
        response = c.post(ADD, post_form(title="Later", published_at=later, _schedule="1"))
        assert response.status_code == 200
        assert not Post.objects.filter(title="Later").exists()

    def test_it_cannot_publish_an_existing_draft(self, c):
        c.post(ADD, post_form(title="Mine", _save_draft="1"))
        post = Post.objects.get(title="Mine")
        response = c.post(change_url(post), post_form(title="Mine", _publish="1"))
        assert response.status_code == 200
        post.refresh_from_db()
        assert post.status == Post.Status.DRAFT

    def test_the_server_rechecks_publishing(self, c):
        from django.contrib.admin.sites import site

        post = Post(title="Forced", slug="forced", status=Post.Status.PUBLISHED)
        request = RequestFactory().post(ADD)
        request.user = self.user
        with pytest.raises(PermissionDenied):
            site._registry[Post].save_model(request, post, form=_NoUpload(), change=False)
        assert not Post.objects.filter(slug="forced").exists()

    def test_it_cannot_see_or_change_others_posts(self, c, others_post):
        assert "Alice&#x27;s draft" not in c.get("/admin/posts/post/").content.decode()
        response = c.get(change_url(others_post))
        assert response.status_code == 302  # "doesn't exist": not revealed
        c.post(change_url(others_post), post_form(title="Defaced", _save_draft="1"))
        others_post.refresh_from_db()
        assert others_post.title == "Alice's draft"

    def test_it_cannot_change_its_own_post_once_published(self, c, make_post):
        post = make_post("Published for me", author=Author.objects.get(user=self.user))
        response = c.get(change_url(post))
        assert response.status_code == 200
        assert 'name="_save_draft"' not in response.content.decode()
        response = c.post(change_url(post), post_form(title="Changed", _save_draft="1"))
        assert response.status_code == 403
        post.refresh_from_db()
        assert post.title == "Published for me"

    def test_it_cannot_reach_site_settings_or_users(self, c):
        assert c.get(SETTINGS).status_code == 403
        assert c.get(USERS).status_code == 403

    def test_it_deletes_own_drafts_but_not_published_posts(self, c, make_post):
        own = Author.objects.get(user=self.user)
        draft = make_post("Scrap", status=Post.Status.DRAFT, author=own)
        live = make_post("Keep", author=own)
        assert c.post(f"/admin/posts/post/{draft.pk}/delete/", {"post": "yes"}).status_code == 302
        assert not Post.objects.filter(pk=draft.pk).exists()
        assert c.post(f"/admin/posts/post/{live.pk}/delete/", {"post": "yes"}).status_code == 403
        response = c.post(
            "/admin/posts/post/",
            {"action": "delete_selected", "_selected_action": [live.pk], "post": "yes"},
        )
        assert response.status_code == 403
        assert Post.objects.filter(pk=live.pk).exists()


class _NoUpload:
    cleaned_data = {}


class TestAuthor:
    @pytest.fixture
    def c(self, make_user, signed_in):
        self.user = make_user("arthur", "Author")
        return signed_in(self.user)

    def test_it_publishes_own_posts(self, c):
        c.post(ADD, post_form(title="Mine to publish", _publish="1"))
        assert Post.objects.get(title="Mine to publish").status == Post.Status.PUBLISHED

    def test_it_edits_own_published_posts(self, c, make_post):
        post = make_post("Live", author=Author.objects.get(user=self.user))
        response = c.post(
            change_url(post), post_form(title="Live, edited", _continue="1", status="published")
        )
        assert response.status_code == 302
        post.refresh_from_db()
        assert post.title == "Live, edited" and post.status == Post.Status.PUBLISHED

    def test_it_cannot_change_others_posts(self, c, others_post):
        c.post(change_url(others_post), post_form(title="Mine now", _publish="1"))
        others_post.refresh_from_db()
        assert others_post.title == "Alice's draft"
        assert others_post.status == Post.Status.DRAFT

    def test_it_cannot_pick_another_author(self, c, alice):
        c.post(ADD, post_form(title="Signed as Alice", author=str(alice.pk), _save_draft="1"))
        assert Post.objects.get(title="Signed as Alice").author.user == self.user

    def test_it_edits_only_its_own_profile(self, c, alice):
        own = Author.objects.get(user=self.user)
        assert c.get(f"/admin/posts/author/{own.pk}/change/").status_code == 200
        assert c.get(f"/admin/posts/author/{alice.pk}/change/").status_code == 302

    def test_it_cannot_reach_site_settings_or_users(self, c):
        assert c.get(SETTINGS).status_code == 403
        assert c.get(USERS).status_code == 403


class TestEditor:
    @pytest.fixture
    def c(self, make_user, signed_in):
        self.user = make_user("edna", "Editor")
        return signed_in(self.user)

    def test_its_editor_offers_authors_and_new_categories(self, c):
        page = c.get(ADD).content.decode()
        assert 'name="author"' in page and 'name="new_categories"' in page
        assert 'name="_publish"' in page

    def test_it_sees_and_publishes_anyones_post(self, c, others_post):
        assert "Alice&#x27;s draft" in c.get("/admin/posts/post/").content.decode()
        response = c.post(
            change_url(others_post),
            post_form(title="Alice's letter", author=str(others_post.author_id), _publish="1"),
        )
        assert response.status_code == 302
        others_post.refresh_from_db()
        assert others_post.title == "Alice's letter"
        assert others_post.status == Post.Status.PUBLISHED
        assert others_post.author.slug == "alice"

    def test_it_cannot_reach_site_settings_or_users(self, c):
        assert c.get(SETTINGS).status_code == 403
        assert c.get(USERS).status_code == 403


class TestAdministrator:
    def test_it_manages_site_settings_and_users(self, make_user, signed_in):
        c = signed_in(make_user("ada_admin", "Administrator"))
        assert c.get(SETTINGS).status_code == 200
        assert c.get(USERS).status_code == 200
        assert c.get("/admin/auth/group/").status_code == 200


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/admin/"),
        ("get", ADD),
        ("get", "/admin/posts/sitesettings/"),
        ("post", "/admin/posts/post/preview-markdown/"),
        ("post", "/admin/editor/mediaitem/upload/"),
        ("get", "/admin/posts/post/1/revisions/"),
    ],
)
def test_nothing_in_the_admin_is_reachable_signed_out(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
