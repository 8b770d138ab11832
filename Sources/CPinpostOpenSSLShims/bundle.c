#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
#include "CPinpostOpenSSLShimsBundle.h"
#include <openssl/x509v3.h>

STACK_OF(X509) *CPinpostOpenSSLShims_sk_X509_new_null(void) {
    return sk_X509_new_null();
}

int CPinpostOpenSSLShims_sk_X509_push_up_ref(STACK_OF(X509) *stack, X509 *cert) {
    if (stack == NULL || cert == NULL || X509_up_ref(cert) != 1) return 0;
    if (sk_X509_push(stack, cert) <= 0) {
        X509_free(cert);
        return 0;
    }
    return 1;
}

int CPinpostOpenSSLShims_X509_PURPOSE_SSL_CLIENT(void) { return X509_PURPOSE_SSL_CLIENT; }

int CPinpostOpenSSLShims_MBSTRING_ASC(void) { return MBSTRING_ASC; }

EVP_PKEY *CPinpostOpenSSLShims_EC_P256_generate(void) {
    return EVP_EC_gen("P-256");
}
