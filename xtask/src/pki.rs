//! The local control plane's credentials: a CA, the API server's serving certificate (IP SAN
//! 127.0.0.1, so rustls verifies it), the service-account signing key and the admin token.

use std::fs;
use std::io::Read;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::Result;

pub struct Pki {
    pub ca_crt: std::path::PathBuf,
    pub serving_crt: std::path::PathBuf,
    pub serving_key: std::path::PathBuf,
    pub sa_key: std::path::PathBuf,
    pub sa_pub: std::path::PathBuf,
    pub tokens_csv: std::path::PathBuf,
    pub admin_token: String,
}

/// Writes fresh credentials into `dir`.
pub fn generate(dir: &Path) -> Result<Pki> {
    fs::create_dir_all(dir)?;
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "kubectl-kruise local test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let serving_key = KeyPair::generate()?;
    let mut serving = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
        "kubernetes.default.svc.cluster.local".to_string(),
    ])?;
    serving
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    serving.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = serving.signed_by(&serving_key, &issuer)?;

    let sa_key = KeyPair::generate()?;
    let admin_token = random_hex(32)?;

    let pki = Pki {
        ca_crt: dir.join("ca.crt"),
        serving_crt: dir.join("apiserver.crt"),
        serving_key: dir.join("apiserver.key"),
        sa_key: dir.join("sa.key"),
        sa_pub: dir.join("sa.pub"),
        tokens_csv: dir.join("tokens.csv"),
        admin_token,
    };
    fs::write(&pki.ca_crt, ca_cert.pem())?;
    fs::write(&pki.serving_crt, serving_cert.pem())?;
    write_private(&pki.serving_key, &serving_key.serialize_pem())?;
    write_private(&pki.sa_key, &sa_key.serialize_pem())?;
    fs::write(&pki.sa_pub, sa_key.public_key_pem())?;
    // token,user,uid,"groups"
    write_private(
        &pki.tokens_csv,
        &format!("{},admin,admin,\"system:masters\"\n", pki.admin_token),
    )?;
    Ok(pki)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
