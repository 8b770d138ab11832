internal import CPinpostOpenSSL

/// Turns OpenSSL's verify result into a reason and a likely fix, naming the certificate involved.
enum VerificationFailure {
    static func error(code: Int, certificate: CertificateSummary?, depth: Int?, serverName: String) -> TLSError {
        let opensslText = OpenSSLString.verifyErrorString(code)
        let (reason, fix) = explanation(code: Int32(code), certificate: certificate, serverName: serverName)
        var message = "broker certificate refused: \(reason)"
        if let certificate {
            let position = depth.map { $0 == 0 ? "broker certificate" : "chain certificate at depth \($0)" } ?? "certificate"
            message += "; \(position): \(certificate)"
        }
        message += "; OpenSSL: \(opensslText) (\(code)); fix: \(fix)"
        return TLSError(kind: .verification, message: message, verifyCode: code, certificate: certificate)
    }

    private static func explanation(code: Int32, certificate: CertificateSummary?, serverName: String) -> (String, String) {
        let names = certificate.map { $0.subjectAlternativeNames.isEmpty ? "no subject alternative names (CN \($0.commonName ?? "none"))" : $0.subjectAlternativeNames.joined(separator: ", ") } ?? "unknown names"
        switch code {
        case X509_V_ERR_HOSTNAME_MISMATCH:
            return ("hostname mismatch: expected '\(serverName)' but the certificate carries \(names)",
                    "connect to a name the certificate carries (broker.host or tls.server_name), or reissue the broker certificate with '\(serverName)' in its subjectAltName")
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return ("IP address mismatch: expected '\(serverName)' but the certificate carries \(names)",
                    "reissue the broker certificate with IP:\(serverName) in its subjectAltName, or connect by a DNS name it carries")
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return ("the certificate has expired",
                    "renew the certificate on the broker; if the broker's certificate is current, check this device's clock")
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return ("the certificate is not yet valid",
                    "check this device's clock (is it synchronized?), or wait until the certificate's notBefore")
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            return ("the broker presented a self-signed certificate that is not in tls.ca_file",
                    "issue the broker certificate from the CA in tls.ca_file, or add the CA that signed it to tls.ca_file")
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return ("the chain ends in a self-signed root that is not trusted by tls.ca_file",
                    "put the broker's root CA in tls.ca_file")
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return ("untrusted issuer or missing intermediate: the issuer of this certificate is neither in tls.ca_file nor sent by the broker",
                    "put the CA that signed the broker certificate in tls.ca_file, or configure the broker to send its intermediate certificates")
        case X509_V_ERR_CERT_REVOKED:
            return ("the certificate has been revoked (listed in tls.crl_file)", "the broker must use a certificate that is not revoked")
        case X509_V_ERR_UNABLE_TO_GET_CRL:
            return ("no CRL in tls.crl_file covers this certificate's issuer", "add the issuer's CRL to tls.crl_file")
        case X509_V_ERR_CRL_HAS_EXPIRED:
            return ("the CRL in tls.crl_file has expired", "fetch a current CRL from the CA")
        case X509_V_ERR_CRL_NOT_YET_VALID:
            return ("the CRL in tls.crl_file is not yet valid", "check this device's clock, or the CRL's lastUpdate")
        case X509_V_ERR_INVALID_CA:
            return ("an issuer in the chain is not a CA (basicConstraints CA:TRUE missing)", "reissue the chain from a real CA certificate")
        case X509_V_ERR_INVALID_PURPOSE:
            return ("the certificate is not allowed for TLS server authentication (extendedKeyUsage lacks serverAuth)",
                    "reissue the broker certificate with extendedKeyUsage serverAuth")
        case X509_V_ERR_EE_KEY_TOO_SMALL, X509_V_ERR_CA_KEY_TOO_SMALL:
            return ("the key is too weak for security level 2 (RSA/DSA below 2048 bits or EC below 224 bits)",
                    "reissue the certificate with an RSA 2048+ or P-256 key")
        case X509_V_ERR_CA_MD_TOO_WEAK:
            return ("the certificate is signed with a weak digest (MD5 or SHA-1)", "reissue the certificate with SHA-256")
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return ("the certificate's signature does not verify", "the certificate is damaged or was not signed by its stated issuer; reissue it")
        default:
            return ("certificate verification failed", "check tls.ca_file and the broker's certificate chain")
        }
    }
}

enum OpenSSLString {
    static func verifyErrorString(_ code: Int) -> String {
        guard let text = X509_verify_cert_error_string(CLong(code)) else { return "unknown" }
        return String(cString: text)
    }
}
