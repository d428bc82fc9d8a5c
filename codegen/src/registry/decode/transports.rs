//! Decoding `targets.<lang>.transports`: which transport packages the Go and
//! Python backends generate next to the core package (docs/registry.md,
//! "Targets"). The core packages never import a client library; a service
//! that does not list a transport pays nothing for it.

use super::*;

impl Decoder<'_> {
    pub(super) fn transports(&mut self, node: &Node, what: &str) -> Vec<Spanned<Transport>> {
        let mut out: Vec<Spanned<Transport>> = Vec::new();
        for name in self.strings(node, &format!("`{what}`")) {
            let transport = match name.value.as_str() {
                "nats" => Transport::Nats,
                "kafka" => Transport::Kafka,
                _ => {
                    let hint = match suggest(&name.value, Transport::NAMES.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? known transports: {}", Transport::NAMES.join(", ")),
                        None => format!("known transports: {}", Transport::NAMES.join(", ")),
                    };
                    self.error(
                        "registry::unknown_transport",
                        name.span.clone(),
                        format!("unknown transport `{}` in `{what}`", name.value.escape_debug()),
                        hint,
                    );
                    continue;
                }
            };
            if out.iter().any(|t| t.value == transport) {
                self.error(
                    "registry::duplicate_key",
                    name.span.clone(),
                    format!("transport `{}` is listed twice in `{what}`", name.value),
                    "remove the repeated entry",
                );
                continue;
            }
            out.push(Spanned::new(transport, name.span));
        }
        out
    }
}
