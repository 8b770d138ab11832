#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
// The ENGINE API (pkcs11 engine) is deprecated in OpenSSL 3.0 but still the way Debian's
// libengine-pkcs11-openssl works; silence the deprecation for this file only.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "CPinpostOpenSSLShims.h"
#include <openssl/x509v3.h>
#include <openssl/ocsp.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <pthread.h>
#include <stdint.h>
#include <openssl/asn1.h>
#include <string.h>
#include <stdio.h>
#include <arpa/inet.h>

int CPinpostOpenSSLShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

int CPinpostOpenSSLShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

long CPinpostOpenSSLShims_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

unsigned long CPinpostOpenSSLShims_SSL_CTX_set_options(SSL_CTX *ctx, unsigned long options) {
    return (unsigned long)SSL_CTX_set_options(ctx, options);
}

size_t CPinpostOpenSSLShims_BIO_ctrl_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}

int CPinpostOpenSSLShims_ERR_GET_LIB(unsigned long code) {
    return ERR_GET_LIB(code);
}

int CPinpostOpenSSLShims_ERR_GET_REASON(unsigned long code) {
    return ERR_GET_REASON(code);
}

int CPinpostOpenSSLShims_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }
int CPinpostOpenSSLShims_TLS1_3_VERSION(void) { return TLS1_3_VERSION; }

int CPinpostOpenSSLShims_sk_X509_num(const STACK_OF(X509) *stack) {
    return stack == NULL ? 0 : sk_X509_num(stack);
}

X509 *CPinpostOpenSSLShims_sk_X509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

void CPinpostOpenSSLShims_sk_X509_pop_free(STACK_OF(X509) *stack) {
    sk_X509_pop_free(stack, X509_free);
}

void CPinpostOpenSSLShims_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

static void append(char *out, size_t capacity, size_t *used, const char *text) {
    size_t length = strlen(text);
    if (*used + length + 1 > capacity) {
        length = capacity > *used + 1 ? capacity - *used - 1 : 0;
    }
    memcpy(out + *used, text, length);
    *used += length;
    out[*used] = '\0';
}

int CPinpostOpenSSLShims_X509_subject_alt_names(X509 *cert, char *out, size_t capacity) {
    if (capacity == 0) return 0;
    out[0] = '\0';
    size_t used = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return 0;
    int count = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        char entry[300];
        entry[0] = '\0';
        if (name->type == GEN_DNS || name->type == GEN_URI || name->type == GEN_EMAIL) {
            const ASN1_IA5STRING *value = name->d.ia5;
            const char *prefix = name->type == GEN_DNS ? "DNS:" : (name->type == GEN_URI ? "URI:" : "email:");
            snprintf(entry, sizeof entry, "%s%.*s", prefix, ASN1_STRING_length(value),
                     (const char *)ASN1_STRING_get0_data(value));
        } else if (name->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = name->d.iPAddress;
            char text[INET6_ADDRSTRLEN] = "?";
            if (ASN1_STRING_length(ip) == 4) {
                inet_ntop(AF_INET, ASN1_STRING_get0_data(ip), text, sizeof text);
            } else if (ASN1_STRING_length(ip) == 16) {
                inet_ntop(AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof text);
            }
            snprintf(entry, sizeof entry, "IP:%s", text);
        } else {
            continue;
        }
        if (count > 0) append(out, capacity, &used, ", ");
        append(out, capacity, &used, entry);
        count++;
    }
    GENERAL_NAMES_free(names);
    return count;
}

int CPinpostOpenSSLShims_X509_allows_eku(X509 *cert, int nid) {
    EXTENDED_KEY_USAGE *usage = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
    if (usage == NULL) return 1;
    int allowed = 0;
    for (int i = 0; i < sk_ASN1_OBJECT_num(usage); i++) {
        int found = OBJ_obj2nid(sk_ASN1_OBJECT_value(usage, i));
        if (found == nid || found == NID_anyExtendedKeyUsage) { allowed = 1; break; }
    }
    EXTENDED_KEY_USAGE_free(usage);
    return allowed;
}

static int asn1_time_to_epoch(const ASN1_TIME *time, long long *out) {
    struct tm parts;
    memset(&parts, 0, sizeof parts);
    if (ASN1_TIME_to_tm(time, &parts) != 1) return 0;
    *out = (long long)timegm(&parts);
    return 1;
}

int CPinpostOpenSSLShims_X509_validity(X509 *cert, long long *not_before, long long *not_after) {
    return asn1_time_to_epoch(X509_get0_notBefore(cert), not_before)
        && asn1_time_to_epoch(X509_get0_notAfter(cert), not_after);
}

unsigned long CPinpostOpenSSLShims_XN_FLAG_readable(void) {
    return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
}

int CPinpostOpenSSLShims_X509_PURPOSE_SSL_SERVER(void) { return X509_PURPOSE_SSL_SERVER; }

unsigned int CPinpostOpenSSLShims_host_flags(void) {
    return X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
}

// MARK: OCSP stapling

static int ocsp_index = -1;
static pthread_once_t ocsp_index_once = PTHREAD_ONCE_INIT;

static void make_ocsp_index(void) {
    ocsp_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int ocsp_ex_index(void) {
    pthread_once(&ocsp_index_once, make_ocsp_index);
    return ocsp_index;
}

static int record(SSL *ssl, int outcome, int accept) {
    SSL_set_ex_data(ssl, ocsp_ex_index(), (void *)(intptr_t)outcome);
    return accept;
}

// Status callback: >0 accept, 0 reject (handshake fails with "invalid status response").
static int ocsp_status_callback(SSL *ssl, void *arg) {
    int mode = (int)(intptr_t)arg;
    const unsigned char *bytes = NULL;
    long length = SSL_get_tlsext_status_ocsp_resp(ssl, &bytes);
    if (length <= 0 || bytes == NULL) {
        return record(ssl, CPINPOST_OCSP_NO_STAPLE, mode == 2 ? 0 : 1);
    }
    OCSP_RESPONSE *response = d2i_OCSP_RESPONSE(NULL, &bytes, length);
    if (response == NULL) return record(ssl, CPINPOST_OCSP_MALFORMED, 0);
    int outcome = CPINPOST_OCSP_GOOD;
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *id = NULL;
    if (OCSP_response_status(response) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        outcome = CPINPOST_OCSP_UNSUCCESSFUL;
        goto done;
    }
    basic = OCSP_response_get1_basic(response);
    if (basic == NULL) { outcome = CPINPOST_OCSP_MALFORMED; goto done; }
    STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
    if (chain == NULL || sk_X509_num(chain) < 2) { outcome = CPINPOST_OCSP_NO_ISSUER; goto done; }
    X509 *leaf = sk_X509_value(chain, 0);
    X509 *issuer = sk_X509_value(chain, 1);
    X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
    if (OCSP_basic_verify(basic, chain, store, 0) <= 0) { outcome = CPINPOST_OCSP_BAD_SIGNATURE; goto done; }
    id = OCSP_cert_to_id(NULL, leaf, issuer);
    int status = 0, reason = 0;
    ASN1_GENERALIZEDTIME *revoked_at = NULL, *this_update = NULL, *next_update = NULL;
    if (id == NULL || OCSP_resp_find_status(basic, id, &status, &reason, &revoked_at, &this_update, &next_update) != 1) {
        outcome = CPINPOST_OCSP_NO_STATUS_FOR_CERT;
        goto done;
    }
    if (OCSP_check_validity(this_update, next_update, 300, -1) != 1) { outcome = CPINPOST_OCSP_STALE; goto done; }
    if (status == V_OCSP_CERTSTATUS_REVOKED) outcome = CPINPOST_OCSP_REVOKED;
    else if (status != V_OCSP_CERTSTATUS_GOOD) outcome = CPINPOST_OCSP_UNKNOWN;
done:
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(response);
    ERR_clear_error();
    return record(ssl, outcome, outcome == CPINPOST_OCSP_GOOD ? 1 : 0);
}

int CPinpostOpenSSLShims_SSL_CTX_set_ocsp_mode(SSL_CTX *ctx, int mode) {
    (void)ocsp_ex_index();
    if (mode == 0) return 1;
    if (SSL_CTX_set_tlsext_status_cb(ctx, ocsp_status_callback) != 1) return 0;
    return SSL_CTX_set_tlsext_status_arg(ctx, (void *)(intptr_t)mode) == 1 ? 1 : 0;
}

int CPinpostOpenSSLShims_SSL_request_ocsp(SSL *ssl) {
    return (int)SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
}

int CPinpostOpenSSLShims_SSL_ocsp_outcome(const SSL *ssl) {
    return (int)(intptr_t)SSL_get_ex_data(ssl, ocsp_ex_index());
}

// MARK: keys outside files

static void write_error(char *error, size_t capacity, const char *what) {
    if (capacity == 0) return;
    unsigned long code = ERR_get_error();
    char detail[256] = "";
    if (code != 0) ERR_error_string_n(code, detail, sizeof detail);
    snprintf(error, capacity, "%s%s%s", what, code != 0 ? ": " : "", detail);
    ERR_clear_error();
}

EVP_PKEY *CPinpostOpenSSLShims_engine_load_private_key(const char *engine_id, const char *uri, const char *module_path,
                                                       const char *pin, char *error, size_t error_capacity) {
    ENGINE_load_builtin_engines();
    ENGINE *engine = ENGINE_by_id(engine_id);
    if (engine == NULL) {
        write_error(error, error_capacity, "the OpenSSL engine could not be loaded (is libengine-pkcs11-openssl installed?)");
        return NULL;
    }
    if (module_path != NULL && ENGINE_ctrl_cmd_string(engine, "MODULE_PATH", module_path, 0) != 1) {
        write_error(error, error_capacity, "the engine refused the PKCS#11 module path");
        ENGINE_free(engine);
        return NULL;
    }
    if (ENGINE_init(engine) != 1) {
        write_error(error, error_capacity, "the engine could not be initialised (is the PKCS#11 module path right?)");
        ENGINE_free(engine);
        return NULL;
    }
    if (pin != NULL && ENGINE_ctrl_cmd_string(engine, "PIN", pin, 0) != 1) {
        write_error(error, error_capacity, "the engine refused the PIN");
        ENGINE_finish(engine);
        ENGINE_free(engine);
        return NULL;
    }
    EVP_PKEY *key = ENGINE_load_private_key(engine, uri, NULL, NULL);
    if (key == NULL) {
        write_error(error, error_capacity, "no private key found for this URI (wrong token, object or PIN?)");
    }
    if (key == NULL) {
        ENGINE_finish(engine);
        ENGINE_free(engine);
        return NULL;
    }
    // Success: the engine stays initialised for the life of the process, because the key's
    // signing operations run inside the PKCS#11 module it loaded (one engine per TLS context).
    return key;
}

EVP_PKEY *CPinpostOpenSSLShims_store_load_private_key(const char *provider, const char *uri, char *error, size_t error_capacity) {
    if (OSSL_PROVIDER_load(NULL, provider) == NULL) {
        write_error(error, error_capacity, "the OpenSSL provider could not be loaded (is tpm2-openssl installed?)");
        return NULL;
    }
    if (OSSL_PROVIDER_load(NULL, "default") == NULL) {
        write_error(error, error_capacity, "the default OpenSSL provider could not be loaded");
        return NULL;
    }
    OSSL_STORE_CTX *store = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
    if (store == NULL) {
        write_error(error, error_capacity, "the key store could not be opened");
        return NULL;
    }
    OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY);
    EVP_PKEY *key = NULL;
    while (key == NULL && !OSSL_STORE_eof(store)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(store);
        if (info == NULL) break;
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    if (key == NULL) write_error(error, error_capacity, "no private key at this handle");
    OSSL_STORE_close(store);
    return key;
}

// MARK: CRL files

int CPinpostOpenSSLShims_crl_file_summary(const char *path, long long *earliest_next_update) {
    *earliest_next_update = -1;
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) { ERR_clear_error(); return -1; }
    int count = 0;
    X509_CRL *crl;
    while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        count++;
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
        long long seconds;
        if (next != NULL && asn1_time_to_epoch(next, &seconds)) {
            if (*earliest_next_update < 0 || seconds < *earliest_next_update) *earliest_next_update = seconds;
        }
        X509_CRL_free(crl);
    }
    ERR_clear_error();
    BIO_free(bio);
    return count;
}
