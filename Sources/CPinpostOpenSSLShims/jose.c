#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
#include "CPinpostOpenSSLShimsJOSE.h"
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <string.h>

int CPinpostOpenSSLShims_is_p256(EVP_PKEY *key) {
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return 0;
    char name[64] = {0};
    size_t length = 0;
    if (EVP_PKEY_get_group_name(key, name, sizeof name, &length) == 1) {
        return strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0;
    }
    return EVP_PKEY_get_bits(key) == 256;
}

int CPinpostOpenSSLShims_es256_sign(EVP_PKEY *key, const uint8_t *message, size_t length, uint8_t signature[64]) {
    int ok = 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t der_length = sizeof der;
    ECDSA_SIG *parsed = NULL;
    if (context == NULL) return 0;
    if (EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) != 1) goto done;
    if (EVP_DigestSign(context, der, &der_length, message, length) != 1) goto done;
    const unsigned char *cursor = der;
    parsed = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    if (parsed == NULL) goto done;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(parsed, &r, &s);
    if (BN_bn2binpad(r, signature, 32) != 32 || BN_bn2binpad(s, signature + 32, 32) != 32) goto done;
    ok = 1;
done:
    ECDSA_SIG_free(parsed);
    EVP_MD_CTX_free(context);
    return ok;
}

int CPinpostOpenSSLShims_es256_verify(EVP_PKEY *key, const uint8_t *message, size_t length,
                                      const uint8_t signature[64]) {
    int ok = 0;
    ECDSA_SIG *parsed = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, 32, NULL);
    BIGNUM *s = BN_bin2bn(signature + 32, 32, NULL);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    if (parsed == NULL || r == NULL || s == NULL || context == NULL) goto done;
    if (ECDSA_SIG_set0(parsed, r, s) != 1) goto done;
    r = NULL;  // owned by `parsed` now
    s = NULL;
    int der_length = i2d_ECDSA_SIG(parsed, &der);
    if (der_length <= 0) goto done;
    if (EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) != 1) goto done;
    ok = EVP_DigestVerify(context, der, (size_t)der_length, message, length) == 1;
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(context);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(parsed);
    return ok;
}

int CPinpostOpenSSLShims_p256_public_xy(EVP_PKEY *key, uint8_t x[32], uint8_t y[32]) {
    unsigned char point[65];
    size_t length = 0;
    if (!CPinpostOpenSSLShims_is_p256(key)) return 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &length) != 1)
        return 0;
    if (length != 65 || point[0] != 0x04) return 0;
    memcpy(x, point + 1, 32);
    memcpy(y, point + 33, 32);
    return 1;
}

EVP_PKEY *CPinpostOpenSSLShims_p256_from_xy(const uint8_t x[32], const uint8_t y[32]) {
    unsigned char point[65];
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (builder == NULL || context == NULL) goto done;
    if (OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1) goto done;
    if (OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) != 1) goto done;
    params = OSSL_PARAM_BLD_to_param(builder);
    if (params == NULL) goto done;
    if (EVP_PKEY_fromdata_init(context) != 1) goto done;
    if (EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        key = NULL;
        goto done;
    }
    // fromdata does not reject a point off the curve: check it.
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int valid = check != NULL && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!valid) {
        EVP_PKEY_free(key);
        key = NULL;
    }
done:
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    return key;
}

int CPinpostOpenSSLShims_p256_ecdh(EVP_PKEY *own, EVP_PKEY *peer, uint8_t secret[32]) {
    int ok = 0;
    size_t length = 32;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new(own, NULL);
    if (context == NULL) return 0;
    if (EVP_PKEY_derive_init(context) != 1 || EVP_PKEY_derive_set_peer(context, peer) != 1) goto done;
    if (EVP_PKEY_derive(context, secret, &length) != 1 || length != 32) goto done;
    ok = 1;
done:
    EVP_PKEY_CTX_free(context);
    return ok;
}

int CPinpostOpenSSLShims_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                                        size_t aad_length, const uint8_t *plaintext, size_t length,
                                        uint8_t *ciphertext, uint8_t tag[16]) {
    int ok = 0, written = 0, final_length = 0;
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    if (context == NULL || length > INT32_MAX || aad_length > INT32_MAX) goto done;
    if (EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), NULL, key, iv) != 1) goto done;
    if (aad_length > 0 && EVP_EncryptUpdate(context, NULL, &written, aad, (int)aad_length) != 1) goto done;
    if (length > 0 && EVP_EncryptUpdate(context, ciphertext, &written, plaintext, (int)length) != 1) goto done;
    if (EVP_EncryptFinal_ex(context, ciphertext + (length > 0 ? written : 0), &final_length) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(context);
    return ok;
}

int CPinpostOpenSSLShims_aes256gcm_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                                        size_t aad_length, const uint8_t *ciphertext, size_t length,
                                        const uint8_t tag[16], uint8_t *plaintext) {
    int ok = 0, written = 0, final_length = 0;
    uint8_t expected[16];
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    memcpy(expected, tag, 16);
    if (context == NULL || length > INT32_MAX || aad_length > INT32_MAX) goto done;
    if (EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), NULL, key, iv) != 1) goto done;
    if (aad_length > 0 && EVP_DecryptUpdate(context, NULL, &written, aad, (int)aad_length) != 1) goto done;
    if (length > 0 && EVP_DecryptUpdate(context, plaintext, &written, ciphertext, (int)length) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, expected) != 1) goto done;
    ok = EVP_DecryptFinal_ex(context, plaintext + (length > 0 ? written : 0), &final_length) == 1;
done:
    EVP_CIPHER_CTX_free(context);
    return ok;
}
