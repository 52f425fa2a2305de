"""Computes shared/tests/vectors/member-keys.json independently of Cloister's Rust code.

Made with Python 3.11 in a throwaway venv: `pip install cryptography pynacl mnemonic`
(cryptography 51.0.1: Argon2id, AES-GCM, HKDF, i.e. OpenSSL; PyNaCl 1.6.2: libsodium's
crypto_box_seal and X25519; mnemonic 0.21: the BIP-39 reference word list), then
`python make_member_keys.py > member-keys.json`. Every construction follows docs/format.md alone.
Sealed boxes are randomised (a fresh ephemeral key each run), so rerunning gives other sealed
bytes for the same keys; the test only opens them.
"""

import json
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from mnemonic import Mnemonic
from nacl.public import PrivateKey, SealedBox


def seq(start, n):
    return bytes(range(start, start + n))


def wrap(kek, nonce, key, aad):
    return nonce + AESGCM(kek).encrypt(nonce, key, aad)


passphrase = "correct horse battery staple"
salt = seq(0x10, 16)
m_cost_kib, t_cost, p_cost = 65536, 3, 1
passphrase_key = Argon2id(
    salt=salt, length=32, iterations=t_cost, lanes=p_cost, memory_cost=m_cost_kib
).derive(passphrase.encode())

member_secret = seq(0x40, 32)
member_public = bytes(PrivateKey(member_secret).public_key)
private_nonce = seq(0x60, 12)
wrapped_private_key = wrap(
    passphrase_key,
    private_nonce,
    member_secret,
    b"cloister/member-private-key/v1\x00" + member_public,
)

library_key = seq(0x80, 32)
generation = 1
sealed_library_key = SealedBox(PrivateKey(member_secret).public_key).encrypt(
    struct.pack(">I", generation) + library_key
)

# The previous generation's key under the current (generation 2) one, during a key change.
current_key = seq(0xA0, 32)
current_generation = 2
previous_nonce = seq(0x70, 12)
wrapped_previous = wrap(
    current_key,
    previous_nonce,
    library_key,
    b"cloister/previous-library-key/v1\x00" + struct.pack(">I", current_generation),
)

entropy = seq(0xC0, 32)
words = Mnemonic("english").to_mnemonic(entropy)
recovery_secret = HKDF(
    algorithm=hashes.SHA256(), length=32, salt=None, info=b"cloister/recovery-key/v1"
).derive(entropy)
recovery = PrivateKey(recovery_secret)
recovery_public = bytes(recovery.public_key)
recovery_sealed = SealedBox(recovery.public_key).encrypt(
    struct.pack(">I", generation) + library_key
)
answer = seq(0xE0, 32)
challenge = SealedBox(recovery.public_key).encrypt(b"cloister/recovery-challenge/v1" + answer)

print(
    json.dumps(
        {
            "about": "Computed by make_member_keys.py (Python cryptography, PyNaCl, mnemonic); "
            "formats in docs/format.md.",
            "passphrase": passphrase,
            "kdf": {
                "salt": salt.hex(),
                "m_cost_kib": m_cost_kib,
                "t_cost": t_cost,
                "p_cost": p_cost,
            },
            "passphrase_key": passphrase_key.hex(),
            "member_secret_key": member_secret.hex(),
            "member_public_key": member_public.hex(),
            "wrapped_private_key": wrapped_private_key.hex(),
            "library_key": library_key.hex(),
            "generation": generation,
            "sealed_library_key": sealed_library_key.hex(),
            "current_library_key": current_key.hex(),
            "current_generation": current_generation,
            "wrapped_previous_library_key": wrapped_previous.hex(),
            "recovery_entropy": entropy.hex(),
            "recovery_words": words,
            "recovery_secret_key": recovery_secret.hex(),
            "recovery_public_key": recovery_public.hex(),
            "recovery_sealed_library_key": recovery_sealed.hex(),
            "challenge_answer": answer.hex(),
            "sealed_challenge": challenge.hex(),
        },
        indent=2,
    )
)
