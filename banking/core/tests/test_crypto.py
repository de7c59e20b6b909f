
from banking.core.crypto import blind_index, decrypt, encrypt


def test_round_trip_and_randomised_ciphertext():
    token = encrypt("ABCPE1234F")
    assert token != encrypt("ABCPE1234F")
    assert "ABCPE1234F" not in token
    assert decrypt(token) == "ABCPE1234F"


def test_blind_index_is_stable_and_secret():
    assert blind_index("ABCPE1234F") == blind_index("ABCPE1234F")
    assert blind_index("ABCPE1234F") != blind_index("ABCPE1234G")
    assert "ABCPE1234F" not in blind_index("ABCPE1234F")


def test_rotation_reads_old_tokens(settings):
    from cryptography.fernet import Fernet

    old = settings.FIELD_ENCRYPTION_KEY
    token = encrypt("secret")
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old}"
    assert decrypt(token) == "secret"
