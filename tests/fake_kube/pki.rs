//! The fake's certificates, made fresh at each start with rcgen (ECDSA P-256): a CA, the
//! server's certificate (IP 127.0.0.1, DNS localhost) and the admin client's (CN
//! `system:admin`, O `system:masters`); the rustls server configuration that requires a
//! client certificate of the CA; the kubeconfig k3s would write.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

pub(super) struct Pki {
    ca: CertificateDer<'static>,
    ca_pem: String,
    server: CertificateDer<'static>,
    server_key: Vec<u8>,
    client_pem: String,
    client_key_pem: String,
}

impl Pki {
    pub(super) fn generate() -> Pki {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::new()).expect("CA parameters");
        ca_params.distinguished_name = name(&[(DnType::CommonName, "k3s-server-ca@1735689600")]);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        validity(&mut ca_params);
        let ca = ca_params.self_signed(&ca_key).expect("the CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("a server key");
        let mut server_params =
            // What k3s puts in its serving certificate: its default names, loopback, and the
            // `tls-san` of the example sites (the API's private addresses) or, where the cloud
            // assigns it, the server's `node-ip` (the first droplet of the DigitalOcean example,
            // and of its copy named `second-site`, in the fake), the API addresses in the
            // Scaleway example's own range and in those of its copies `second-site` (derived)
            // and `third-site` (`privateCidr: 10.77.0.0/16`), but no public address, so a
            // client must check the name the kubeconfig's `tls-server-name` gives.
            CertificateParams::new(
                [
                    "kubernetes",
                    "kubernetes.default",
                    "localhost",
                    "127.0.0.1",
                    "10.2.0.5",
                    "10.2.0.10",
                    "10.177.48.2",
                    "10.164.176.2",
                    "10.161.64.10",
                    "10.164.176.10",
                    "10.77.0.10",
                ]
                .map(str::to_owned)
                .to_vec(),
            )
                .expect("server parameters");
        server_params.distinguished_name = name(&[(DnType::CommonName, "k3s")]);
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut server_params);
        let server = server_params
            .signed_by(&server_key, &issuer)
            .expect("the server certificate");

        let client_key = KeyPair::generate().expect("a client key");
        let mut client_params = CertificateParams::new(Vec::new()).expect("client parameters");
        client_params.distinguished_name = name(&[
            (DnType::OrganizationName, "system:masters"),
            (DnType::CommonName, "system:admin"),
        ]);
        client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        validity(&mut client_params);
        let client = client_params
            .signed_by(&client_key, &issuer)
            .expect("the client certificate");

        Pki {
            ca: ca.der().clone(),
            ca_pem: ca.pem(),
            server: server.der().clone(),
            server_key: server_key.serialize_der(),
            client_pem: client.pem(),
            client_key_pem: sec1_pem(&client_key),
        }
    }

    /// TLS 1.2 and 1.3 on ring, the server certificate, a client certificate of the CA
    /// required; ALPN h2 and http/1.1.
    pub(super) fn server_config(&self) -> ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("the CA as a root");
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .expect("a client verifier");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.server.clone()], key)
            .expect("the server certificate and key");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config
    }

    /// The kubeconfig k3s writes to `/etc/rancher/k3s/k3s.yaml`, with this CA and client.
    pub(super) fn kubeconfig(&self) -> String {
        let ca = STANDARD.encode(&self.ca_pem);
        // k3s bundles the client certificate with the CA that signed it.
        let certificate = STANDARD.encode(format!("{}{}", self.client_pem, self.ca_pem));
        let key = STANDARD.encode(&self.client_key_pem);
        format!(
            "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {{}}
users:
- name: default
  user:
    client-certificate-data: {certificate}
    client-key-data: {key}
"
        )
    }
}

fn name(parts: &[(DnType, &str)]) -> rcgen::DistinguishedName {
    let mut name = rcgen::DistinguishedName::new();
    for (kind, value) in parts {
        name.push(kind.clone(), *value);
    }
    name
}

/// Valid from 2025 for a century: tests do not depend on the clock.
fn validity(params: &mut CertificateParams) {
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2125, 1, 1);
}

/// The P-256 key in SEC1 PEM (`EC PRIVATE KEY`), as k3s writes keys: the private scalar
/// taken from ring's PKCS#8, with the curve and the public key.
fn sec1_pem(key: &KeyPair) -> String {
    // PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey OCTET STRING }, whose
    // octets are an ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING, ... }.
    let (_, info, _) = der_element(key.serialized_der());
    let (_, _, rest) = der_element(info);
    let (_, _, rest) = der_element(rest);
    let (tag, octets, _) = der_element(rest);
    assert_eq!(tag, 0x04, "PKCS#8 privateKey is an OCTET STRING");
    let (_, ec_private_key, _) = der_element(octets);
    let (_, _, rest) = der_element(ec_private_key);
    let (tag, scalar, _) = der_element(rest);
    assert_eq!(tag, 0x04, "ECPrivateKey privateKey is an OCTET STRING");
    const PRIME256V1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut public_key = vec![0x00];
    public_key.extend_from_slice(key.public_key_raw());
    let sec1 = der(
        0x30,
        &[
            der(0x02, &[0x01]),
            der(0x04, scalar),
            der(0xa0, PRIME256V1),
            der(0xa1, &der(0x03, &public_key)),
        ]
        .concat(),
    );
    let body = STANDARD.encode(sec1);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// The first DER element of `bytes`: tag, content, what follows (lengths below 64 KiB).
fn der_element(bytes: &[u8]) -> (u8, &[u8], &[u8]) {
    let (length, header) = match bytes[1] {
        short if short < 0x80 => (usize::from(short), 2),
        0x81 => (usize::from(bytes[2]), 3),
        0x82 => (usize::from(bytes[2]) << 8 | usize::from(bytes[3]), 4),
        other => panic!("a DER length form the fake does not read: {other:#x}"),
    };
    let (content, rest) = bytes[header..].split_at(length);
    (bytes[0], content, rest)
}

/// A DER element (content below 256 bytes).
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let length = u8::try_from(content.len()).expect("short DER content");
    let mut out = vec![tag];
    if length >= 0x80 {
        out.push(0x81);
    }
    out.push(length);
    out.extend_from_slice(content);
    out
}
