#ifndef CPINPOSTOPENSSLSHIMS_BUNDLE_H
#define CPINPOSTOPENSSLSHIMS_BUNDLE_H
// Macros the bundle installer (`pinpost install-bundle`) needs, as functions: checking a device
// certificate's chain outside a TLS connection, and making the device's key and request on the board.
#include <openssl/evp.h>
#include <openssl/x509.h>

/// A new, empty STACK_OF(X509) (sk_X509_new_null is a macro). Free it with CPinpostOpenSSLShims_sk_X509_pop_free.
STACK_OF(X509) *CPinpostOpenSSLShims_sk_X509_new_null(void);
/// Appends `cert` to `stack`, which then owns one reference to it (sk_X509_push is a macro; this
/// takes the reference with X509_up_ref first). Returns 1 on success, 0 on failure.
int CPinpostOpenSSLShims_sk_X509_push_up_ref(STACK_OF(X509) *stack, X509 *cert);
/// X509_PURPOSE_SSL_CLIENT (a macro): a device certificate must be fit for TLS client authentication.
int CPinpostOpenSSLShims_X509_PURPOSE_SSL_CLIENT(void);
/// MBSTRING_ASC (a compound macro): the encoding of text given to X509_NAME_add_entry_by_txt.
int CPinpostOpenSSLShims_MBSTRING_ASC(void);
/// A new EC P-256 key with named-curve encoding, like `openssl genpkey -algorithm EC -pkeyopt
/// ec_paramgen_curve:P-256` (EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen). NULL on failure.
EVP_PKEY *CPinpostOpenSSLShims_EC_P256_generate(void);
#endif
