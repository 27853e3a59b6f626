//! Name resolution for webhook requests that refuses internal addresses, so a host name
//! cannot smuggle a request into the private network (including by re-resolving to an
//! internal address between the check and the connection: the check is the resolution).

use std::collections::HashSet;
use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Clone, Default)]
pub struct PublicOnly {
    /// Hosts the operator allows even though they resolve to internal addresses.
    pub allowed_hosts: HashSet<String>,
}

impl PublicOnly {
    pub fn allows(&self, host: &str) -> bool {
        self.allowed_hosts.contains(&host.trim_matches(['[', ']']).to_ascii_lowercase())
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allows(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> =
                addrs.into_iter().filter(|a| allowed || vestibule_domain::net::is_public(a.ip())).collect();
            if usable.is_empty() {
                return Err(format!("refused: {host} resolves only to internal addresses").into());
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}
