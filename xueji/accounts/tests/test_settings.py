from django.conf import settings

from config import settings as configured


def test_production_hashes_passwords_with_argon2():
    # Read the settings module itself: tests swap in a fast hasher through a fixture.
    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_sessions_expire_after_the_configured_idle_time():
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == 30 * 60
