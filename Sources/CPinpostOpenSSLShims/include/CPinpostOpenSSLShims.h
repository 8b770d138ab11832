#ifndef CPINPOSTOPENSSLSHIMS_H
#define CPINPOSTOPENSSLSHIMS_H
// Functions for OpenSSL "functions" that are really macros (SSL_ctrl / BIO_ctrl
// wrappers and stack helpers) and so are invisible to the Swift importer.
#include <openssl/ssl.h>
#include <openssl/x509.h>

/// SSL_set_tlsext_host_name: sends SNI. Macro over SSL_ctrl.
int CPinpostOpenSSLShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
/// SSL_CTX_set_min_proto_version: macro over SSL_CTX_ctrl.
int CPinpostOpenSSLShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_mode: macro over SSL_CTX_ctrl.
long CPinpostOpenSSLShims_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
/// SSL_CTX_set_options is a real function in 3.0, kept here for symmetry with older libssl.
unsigned long CPinpostOpenSSLShims_SSL_CTX_set_options(SSL_CTX *ctx, unsigned long options);
/// BIO_pending / BIO_ctrl_pending: bytes waiting to be read from a memory BIO.
size_t CPinpostOpenSSLShims_BIO_ctrl_pending(BIO *bio);
/// The library of a packed OpenSSL error code (ERR_GET_LIB is an inline function over macros), e.g. ERR_LIB_X509.
int CPinpostOpenSSLShims_ERR_GET_LIB(unsigned long code);
/// The reason of a packed OpenSSL error code (ERR_GET_REASON), e.g. X509_R_KEY_VALUES_MISMATCH.
int CPinpostOpenSSLShims_ERR_GET_REASON(unsigned long code);
/// The protocol constants are macros too.
int CPinpostOpenSSLShims_TLS1_2_VERSION(void);
int CPinpostOpenSSLShims_TLS1_3_VERSION(void);
/// Number of certificates in a STACK_OF(X509) (sk_X509_num is a macro).
int CPinpostOpenSSLShims_sk_X509_num(const STACK_OF(X509) *stack);
/// Certificate at an index of a STACK_OF(X509) (sk_X509_value is a macro).
X509 *CPinpostOpenSSLShims_sk_X509_value(const STACK_OF(X509) *stack, int index);
/// Frees a STACK_OF(X509) and its certificates (sk_X509_pop_free is a macro).
void CPinpostOpenSSLShims_sk_X509_pop_free(STACK_OF(X509) *stack);
/// Frees memory allocated by OpenSSL (OPENSSL_free is a macro).
void CPinpostOpenSSLShims_OPENSSL_free(void *pointer);
/// SAN entries of a certificate as "DNS:name" / "IP:addr" / "URI:..." lines joined by ", ";
/// writes at most `capacity - 1` bytes and NUL terminates. Returns the number of entries.
int CPinpostOpenSSLShims_X509_subject_alt_names(X509 *cert, char *out, size_t capacity);
/// Whether the certificate's extended key usage allows `nid` (NID_client_auth / NID_server_auth),
/// or carries no EKU extension at all (which allows every purpose). 1 yes, 0 no.
int CPinpostOpenSSLShims_X509_allows_eku(X509 *cert, int nid);
/// notBefore/notAfter as seconds since the epoch (UTC). Returns 1 on success.
int CPinpostOpenSSLShims_X509_validity(X509 *cert, long long *not_before, long long *not_after);
/// Print flags for one-line RFC 2253 names with UTF-8 kept readable (XN_FLAG_* are compound macros).
unsigned long CPinpostOpenSSLShims_XN_FLAG_readable(void);

/// X509_PURPOSE_SSL_SERVER (a macro): the broker's certificate must be fit for TLS server authentication.
int CPinpostOpenSSLShims_X509_PURPOSE_SSL_SERVER(void);
/// Host-check flags Pinpost uses: never fall back to the subject CN, no partial wildcards (`w*.example.com`).
unsigned int CPinpostOpenSSLShims_host_flags(void);

/// OCSP stapling policy for a context: 0 off, 1 soft (a staple, when sent, must be valid and good),
/// 2 require (no staple is a failure). Installs the status callback; SSL_CTX_set_tlsext_status_cb is a macro.
int CPinpostOpenSSLShims_SSL_CTX_set_ocsp_mode(SSL_CTX *ctx, int mode);
/// Asks the broker for a stapled OCSP response (SSL_set_tlsext_status_type is a macro).
int CPinpostOpenSSLShims_SSL_request_ocsp(SSL *ssl);
/// What the status callback found for this connection (CPINPOST_OCSP_*).
int CPinpostOpenSSLShims_SSL_ocsp_outcome(const SSL *ssl);
enum {
    CPINPOST_OCSP_NOT_CHECKED = 0,
    CPINPOST_OCSP_GOOD = 1,
    CPINPOST_OCSP_NO_STAPLE = 2,
    CPINPOST_OCSP_MALFORMED = 3,
    CPINPOST_OCSP_UNSUCCESSFUL = 4,
    CPINPOST_OCSP_NO_ISSUER = 5,
    CPINPOST_OCSP_BAD_SIGNATURE = 6,
    CPINPOST_OCSP_NO_STATUS_FOR_CERT = 7,
    CPINPOST_OCSP_STALE = 8,
    CPINPOST_OCSP_REVOKED = 9,
    CPINPOST_OCSP_UNKNOWN = 10,
};

/// Loads a private key through the OpenSSL ENGINE API (e.g. "pkcs11" with a `pkcs11:` URI).
/// `module_path` and `pin` may be NULL. On failure returns NULL and writes a reason into `error`.
/// The ENGINE API is deprecated in OpenSSL 3.0 but is how Debian's libengine-pkcs11-openssl works.
EVP_PKEY *CPinpostOpenSSLShims_engine_load_private_key(const char *engine_id, const char *uri, const char *module_path,
                                                       const char *pin, char *error, size_t error_capacity);
/// Loads a private key through OSSL_STORE after loading the named provider and "default"
/// (e.g. provider "tpm2" with "handle:0x81000001"). On failure returns NULL and writes a reason into `error`.
EVP_PKEY *CPinpostOpenSSLShims_store_load_private_key(const char *provider, const char *uri, char *error, size_t error_capacity);
/// The CRLs of a PEM file: count, and the earliest nextUpdate (epoch seconds, or -1 when none has one).
/// Returns -1 when the file cannot be opened.
int CPinpostOpenSSLShims_crl_file_summary(const char *path, long long *earliest_next_update);

#include "CPinpostOpenSSLShimsBundle.h"
#include "CPinpostOpenSSLShimsJOSE.h"
#endif
