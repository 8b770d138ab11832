#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
#include "CPinpostOpenSSLShims.h"
#include <openssl/x509v3.h>
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
