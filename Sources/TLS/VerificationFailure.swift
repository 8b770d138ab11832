internal import CPinpostOpenSSL

/// Turns OpenSSL's verify result into a reason and a likely fix, naming the certificate involved.
enum VerificationFailure {
    static func error(code: Int, certificate: CertificateSummary?, depth: Int?, serverName: String) -> TLSError {
        let opensslText = OpenSSLString.verifyErrorString(code)
        let (reason, fix) = explanation(code: Int32(code), certificate: certificate, serverName: serverName)
        var message = "broker certificate refused: \(reason)"
        if let certificate {
            let position =
                depth.map { $0 == 0 ? "broker certificate" : "chain certificate at depth \($0)" } ?? "certificate"
            message += "; \(position): \(certificate)"
        }
        message += "; OpenSSL: \(opensslText) (\(code)); fix: \(fix)"
        return TLSError(kind: .verification, message: message, verifyCode: code, certificate: certificate)
    }

    private static func explanation(
        code: Int32,
        certificate: CertificateSummary?,
        serverName: String
    ) -> (String, String) {
        let names =
            certificate.map {
                $0.subjectAlternativeNames.isEmpty
                    ? "no subject alternative names (only CN \($0.commonName ?? "none"), which Pinpost never uses as a name)"
                    : $0.subjectAlternativeNames.joined(separator: ", ")
            } ?? "unknown names"
        let issuer = certificate.map { "'\($0.issuer)'" } ?? "of this certificate"
        switch code {
        case X509_V_ERR_HOSTNAME_MISMATCH:
            return (
                "hostname mismatch: expected '\(serverName)' but the certificate carries \(names)",
                "connect to a name the certificate carries (broker.host or tls.server_name), or reissue the broker certificate with '\(serverName)' in its subjectAltName"
            )
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return (
                "IP address mismatch: expected '\(serverName)' but the certificate carries \(names)",
                "reissue the broker certificate with IP:\(serverName) in its subjectAltName, or connect by a DNS name it carries"
            )
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return (
                "the certificate has expired",
                "renew the certificate on the broker; if the broker's certificate is current, check this device's clock"
            )
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return (
                "the certificate is not yet valid",
                "check this device's clock (is it synchronized?), or wait until the certificate's notBefore"
            )
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            return (
                "the broker presented a self-signed certificate that is not in tls.ca_file",
                "issue the broker certificate from the CA in tls.ca_file, or add the CA that signed it to tls.ca_file"
            )
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return (
                "the chain ends in a self-signed root that is not trusted by tls.ca_file",
                "put the broker's root CA in tls.ca_file"
            )
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return (
                "untrusted issuer or missing intermediate: the issuer \(issuer) is neither a trust anchor (tls.ca_file / tls.ca_dir) nor sent by the broker",
                "if the broker certificate was signed by another CA, issue it from the CA in tls.ca_file (or trust that CA); if \(issuer) is an intermediate, configure the broker to send it (Mosquitto: certfile = leaf followed by intermediates)"
            )
        case X509_V_ERR_CERT_REVOKED:
            return (
                "the certificate has been revoked (listed in the CRL of \(issuer) in tls.crl_file)",
                "the broker must use a certificate that is not revoked"
            )
        case X509_V_ERR_UNABLE_TO_GET_CRL:
            return (
                "revocation cannot be checked: no CRL from the issuer \(issuer) in tls.crl_file",
                "add that issuer's CRL to tls.crl_file (one file may hold several CRLs), or relax tls.crl_mode (\"leaf\" checks only the broker certificate, \"off\" disables CRL checks)"
            )
        case X509_V_ERR_CRL_HAS_EXPIRED:
            return (
                "revocation cannot be checked: the CRL from \(issuer) in tls.crl_file has expired (its nextUpdate has passed)",
                "fetch a current CRL from the CA (pinpost-pki crl) into tls.crl_file; if it is current, check this device's clock; or set tls.crl_mode = \"off\""
            )
        case X509_V_ERR_CRL_NOT_YET_VALID:
            return ("the CRL in tls.crl_file is not yet valid", "check this device's clock, or the CRL's lastUpdate")
        case X509_V_ERR_INVALID_CA, X509_V_ERR_KEYUSAGE_NO_CERTSIGN, X509_V_ERR_INVALID_NON_CA:
            return (
                "issuer is not a CA: a certificate in the chain signs others without basicConstraints CA:TRUE and keyUsage keyCertSign",
                "issue the broker certificate from a real CA (or intermediate CA) certificate, not from another leaf"
            )
        case X509_V_ERR_PATH_LENGTH_EXCEEDED:
            return (
                "the chain is longer than an issuer's pathLenConstraint allows",
                "issue the broker certificate directly from an allowed intermediate"
            )
        case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, X509_V_ERR_CRL_SIGNATURE_FAILURE,
            X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
            return (
                "the CRL for this certificate cannot be verified (wrong issuer or bad signature)",
                "use the CRL published by the certificate's own issuer in tls.crl_file"
            )
        case X509_V_ERR_INVALID_PURPOSE:
            return (
                "the certificate is not allowed for TLS server authentication (extendedKeyUsage lacks serverAuth)",
                "reissue the broker certificate with extendedKeyUsage serverAuth"
            )
        case X509_V_ERR_EE_KEY_TOO_SMALL, X509_V_ERR_CA_KEY_TOO_SMALL:
            return (
                "the key is too weak for security level 2 (RSA/DSA below 2048 bits or EC below 224 bits)",
                "reissue the certificate with an RSA 2048+ or P-256 key"
            )
        case X509_V_ERR_CA_MD_TOO_WEAK:
            return (
                "the certificate is signed with a weak digest (MD5 or SHA-1)", "reissue the certificate with SHA-256"
            )
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return (
                "the certificate's signature does not verify",
                "the certificate is damaged or was not signed by its stated issuer; reissue it"
            )
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
