internal import CPinpostOpenSSLShims

/// Turns the OCSP status callback's finding into a refusal in words.
enum OCSPFailure {
    static func error(outcome: Int32, mode: OCSPMode, certificate: CertificateSummary?) -> TLSError? {
        let reason: String
        let fix: String
        switch Int(outcome) {
        case Int(CPINPOST_OCSP_NOT_CHECKED), Int(CPINPOST_OCSP_GOOD):
            return nil
        case Int(CPINPOST_OCSP_NO_STAPLE):
            guard mode == .require else { return nil }
            reason = "the broker sent no OCSP staple, and tls.ocsp = \"require\""
            fix =
                "enable OCSP stapling on the broker (Mosquitto 2.0 listeners cannot staple), or set tls.ocsp = \"soft\" and use tls.crl_file for revocation"
        case Int(CPINPOST_OCSP_MALFORMED):
            reason = "the broker's OCSP staple is not a valid OCSP response"
            fix = "check the broker's OCSP response file"
        case Int(CPINPOST_OCSP_UNSUCCESSFUL):
            reason = "the broker's OCSP staple is an error response from the responder"
            fix = "refresh the broker's OCSP response from the CA's responder"
        case Int(CPINPOST_OCSP_NO_ISSUER):
            reason = "the OCSP staple cannot be checked: the broker's issuer is unknown"
            fix = "put the broker's issuing CA in tls.ca_file"
        case Int(CPINPOST_OCSP_BAD_SIGNATURE):
            reason = "the broker's OCSP staple is not signed by its CA or an authorised responder"
            fix = "staple a response signed by the CA in tls.ca_file (or its OCSP signing delegate)"
        case Int(CPINPOST_OCSP_NO_STATUS_FOR_CERT):
            reason = "the broker's OCSP staple does not cover the broker's certificate"
            fix = "staple the response for the certificate the broker presents"
        case Int(CPINPOST_OCSP_STALE):
            reason = "the broker's OCSP staple is out of date (nextUpdate passed, or thisUpdate in the future)"
            fix = "refresh the broker's OCSP response; if it is current, check this device's clock"
        case Int(CPINPOST_OCSP_REVOKED):
            reason = "the broker's certificate is revoked (OCSP status \"revoked\")"
            fix = "the broker must use a certificate that is not revoked"
        default:
            reason = "the broker's OCSP staple says its certificate status is \"unknown\""
            fix = "check that the responder knows the broker's certificate"
        }
        var message = "broker certificate refused: OCSP: \(reason)"
        if let certificate {
            message += "; broker certificate: \(certificate)"
        }
        message += "; fix: \(fix)"
        return TLSError(kind: .ocsp, message: message, certificate: certificate)
    }
}
