//! The templates rendered by railyard's template module and by the Handlebars engine they were
//! written for, with the helpers registered as railyard registered them: the same text.

use handlebars::{Handlebars, handlebars_helper};
use serde_json::{Value, json};

use super::*;

handlebars_helper!(json_helper: |value: Json| serde_json::to_string(&value).expect("JSON serialises"));
handlebars_helper!(indent_helper: |width: u64, text: str| {
    let pad = " ".repeat(usize::try_from(width).unwrap_or(0));
    text.trim_end_matches('\n')
        .lines()
        .map(|line| if line.is_empty() { String::new() } else { format!("{pad}{line}") })
        .collect::<Vec<_>>()
        .join("\n")
});

fn engine() -> Handlebars<'static> {
    let mut engine = Handlebars::new();
    engine.set_strict_mode(true);
    engine.register_escape_fn(handlebars::no_escape);
    engine.register_helper("json", Box::new(json_helper));
    engine.register_helper("indent", Box::new(indent_helper));
    engine
}

fn same(text: &str, data: &Value) {
    let expected = engine()
        .render_template(text, data)
        .expect("handlebars renders");
    let got = Template::parse(text).unwrap().render(data).unwrap();
    assert_eq!(got, expected, "data: {data}");
}

#[test]
fn scripts_render_as_handlebars_renders_them() {
    for hcloud in [true, false] {
        same(
            NODE_NETWORK_SCRIPT,
            &json!({ "network_cidr": "10.0.0.0/16", "hcloud_provider_id": hcloud }),
        );
    }
    for wireserver in [json!(false), json!("168.63.129.16")] {
        same(
            METADATA_BLOCK_SCRIPT,
            &json!({ "cluster_cidr": "10.42.0.0/16", "wireserver": wireserver }),
        );
    }
    same(
        INSTALL_K3S_SCRIPT,
        &json!({ "url": "https://x/install.sh", "sha256": "ab", "k3s_version": "v1.33.1+k3s1", "k3s_command": "server" }),
    );
    same(
        FLUX_HANDOVER_SCRIPT,
        &json!({ "manifest": "/var/lib/m.yaml", "addon": "m" }),
    );
}

#[test]
fn the_node_template_renders_as_handlebars_renders_it() {
    let keys = [
        json!([]),
        json!(["ssh-ed25519 AAAA a@b"]),
        json!(["ssh-ed25519 AAAA \"quoted\" \\ key", "ecdsa x"]),
    ];
    let flux = [
        Value::Null,
        json!({ "manifest": "/m.yaml", "text": "a: 1\n\nb: |\n  x\n", "handover": "#!/bin/sh\necho\n" }),
    ];
    for ssh_keys in &keys {
        for flux in &flux {
            let data = json!({
                "role": "server 0", "site": "s", "packages": PACKAGES, "ssh_keys": ssh_keys,
                "sshd_port_script": SSHD_PORT_SCRIPT, "node_network_script": "a\n  b\n",
                "metadata_block_script": "m\n", "metadata_block_unit": METADATA_BLOCK_UNIT,
                "k3s_config": "token: x\n", "install_k3s_script": "i\n", "flux": flux,
                "unattended_upgrades": UNATTENDED_UPGRADES, "auto_upgrades": AUTO_UPGRADES,
            });
            same(NODE_TEMPLATE, &data);
        }
    }
}

#[test]
fn standalone_lines_and_inline_blocks_match_handlebars() {
    let cases = [
        "{{#if x}}\nyes\n{{/if}}\n",
        "  {{#if x}}  \nyes\n  {{/if}}\nafter",
        "a {{#if x}}yes{{/if}} b\n{{#each xs}}\n- {{this}}\n{{/each}}",
        "{{#each xs}}{{this}},{{/each}}\n",
        "x\n{{#if x}}\n{{#each xs}}\n  {{json this}}\n{{/each}}\n{{/if}}\nend\n",
        "\r\n{{#if x}}\r\nyes\r\n{{/if}}\r\n",
    ];
    for text in cases {
        for data in [
            json!({"x": true, "xs": [1, "a\"b"]}),
            json!({"x": 0, "xs": []}),
        ] {
            same(text, &data);
        }
    }
}
