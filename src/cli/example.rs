//! `chainrule example [NAME]`: prints a bundled example network.

use super::Failure;

/// The bundled examples: name and text.
pub(crate) const EXAMPLES: &[(&str, &str)] = &[
    ("mazur", include_str!("../../examples/mazur.nn")),
    (
        "mazur-fixed-bias",
        include_str!("../../examples/mazur-fixed-bias.nn"),
    ),
    ("xor", include_str!("../../examples/xor.nn")),
];

/// Arguments of `example`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Which example; without it, the list.
    name: Option<String>,
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    match args.name {
        None => {
            let mut list = String::new();
            for (name, text) in EXAMPLES {
                let title = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("network "))
                    .unwrap_or("")
                    .trim_matches('"');
                list.push_str(&format!("{name:<18} {title}\n"));
            }
            super::write_output(None, &list)?;
            Ok(0)
        }
        Some(name) => match EXAMPLES.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => {
                super::write_output(None, text)?;
                Ok(0)
            }
            None => {
                let names: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
                Err(Failure::Input(format!(
                    "chainrule: no example called `{name}`; the examples are {}\n",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        },
    }
}
