#ifndef CPINPOSTOPENSSLSHIMS_JOSE_H
#define CPINPOSTOPENSSLSHIMS_JOSE_H
// The primitives of signed and encrypted readings (JWS ES256, JWE ECDH-ES with A256GCM) on the system
// OpenSSL: ECDSA signatures converted between DER and the r||s form JOSE uses, P-256 public keys from and
// to their coordinates, ECDH, AES-256-GCM. Every key kind (a PEM key, a PKCS#11 engine key, a TPM provider
// key) signs through EVP_DigestSign, so the signature is made wherever the key lives.
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

/// 1 when `key` is an EC key on P-256 (prime256v1), else 0.
int CPinpostOpenSSLShims_is_p256(EVP_PKEY *key);
/// ECDSA with SHA-256 over `message`; writes r||s (32 bytes each, big endian) to `signature`. 1 on success.
int CPinpostOpenSSLShims_es256_sign(EVP_PKEY *key, const uint8_t *message, size_t length, uint8_t signature[64]);
/// 1 when `signature` (r||s) is `key`'s ECDSA SHA-256 signature over `message`, else 0.
int CPinpostOpenSSLShims_es256_verify(EVP_PKEY *key, const uint8_t *message, size_t length,
                                      const uint8_t signature[64]);
/// The affine coordinates of a P-256 key's public point (32 bytes each, big endian). 1 on success.
int CPinpostOpenSSLShims_p256_public_xy(EVP_PKEY *key, uint8_t x[32], uint8_t y[32]);
/// A P-256 public key from its coordinates (a JWK's x and y); NULL when they are not a point on the curve.
EVP_PKEY *CPinpostOpenSSLShims_p256_from_xy(const uint8_t x[32], const uint8_t y[32]);
/// ECDH: the x coordinate of `own` private key times `peer`'s public point (32 bytes). 1 on success.
int CPinpostOpenSSLShims_p256_ecdh(EVP_PKEY *own, EVP_PKEY *peer, uint8_t secret[32]);
/// AES-256-GCM with a 96-bit IV: `ciphertext` gets `length` bytes, `tag` 16. 1 on success.
int CPinpostOpenSSLShims_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                                        size_t aad_length, const uint8_t *plaintext, size_t length,
                                        uint8_t *ciphertext, uint8_t tag[16]);
/// The inverse; 1 only when the tag verifies (then `plaintext` holds `length` bytes), else 0.
int CPinpostOpenSSLShims_aes256gcm_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                                        size_t aad_length, const uint8_t *ciphertext, size_t length,
                                        const uint8_t tag[16], uint8_t *plaintext);
#endif
