#ifndef CPINPOSTOPENSSL_SHIM_H
#define CPINPOSTOPENSSL_SHIM_H
// System OpenSSL (libssl 3) headers, imported as one module. Macros that Swift
// cannot import are wrapped in CPinpostOpenSSLShims.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/ocsp.h>
#endif
