//! The node window's console: one command at a time off the UI thread
//! (`stop` always goes through), a history of 50 redacted lines browsed
//! with Up and Down, completion from the node's command list, the wallet
//! chosen in the main window as the target of wallet calls.

use std::collections::VecDeque;
use std::sync::Arc;

use interfaces::Node;
use serde_json::Value;

use crate::console_parser::{self, Outcome};
use crate::task::{self, Task};

const HISTORY: usize = 50;
const HELP_CONSOLE: &str = "This console accepts RPC commands using the standard syntax.
   example:    getblockhash 0

This console can also accept RPC commands using the parenthesized syntax.
   example:    getblockhash(0)

Commands may be nested when specified with the parenthesized syntax.
   example:    getblock(getblockhash(0) 1)

A space or a comma can be used to delimit arguments for either syntax.
   example:    getblockhash 0
               getblockhash,0

Named results can be queried with a non-quoted key string in brackets using the parenthesized syntax.
   example:    getblock(getblockhash(0) 1)[tx]

Results without keys can be queried with an integer in brackets using the parenthesized syntax.
   example:    getblock(getblockhash(0),1)[tx][0]";

/// A line of the output pane.
pub struct Line {
    pub text: String,
    pub kind: LineKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Command,
    Reply,
    Error,
    Notice,
}

struct Entry {
    text: String,
    /// Its arguments were hidden: it cannot be run again as it is.
    redacted: bool,
}

pub struct Console {
    input: String,
    pub output: Vec<Line>,
    history: VecDeque<Entry>,
    /// Where Up/Down are in the history; `history.len()` is the new line.
    browsing: usize,
    running: Option<Task<Outcome>>,
    /// The node's commands for completion, asked for once.
    commands: Option<Task<Vec<String>>>,
    words: Vec<String>,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            input: String::new(),
            output: vec![Line {
                text: "Welcome to the c1pzo RPC console.\n\
                       Use up and down arrows to navigate history. Type help for an overview of \
                       available commands, help-console for the console's syntax.\n\
                       WARNING: Scammers have been active, telling users to type commands here, \
                       stealing their wallet contents. Do not use this console without fully \
                       understanding the ramifications of a command."
                    .into(),
                kind: LineKind::Notice,
            }],
            history: VecDeque::new(),
            browsing: 0,
            running: None,
            commands: None,
            words: Vec::new(),
        }
    }
}

impl Console {
    pub fn show(&mut self, ui: &mut egui::Ui, node: &Arc<dyn Node>, wallet: Option<String>) {
        self.collect(node, ui.ctx());
        let target = match &wallet {
            Some(name) => format!("Executing commands using the \"{name}\" wallet"),
            None => "Executing commands without any wallet".into(),
        };
        ui.label(target);
        let input_height = 60.0;
        egui::ScrollArea::vertical()
            .max_height((ui.available_height() - input_height).max(80.0))
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for line in &self.output {
                    let text = egui::RichText::new(&line.text).monospace();
                    let text = match line.kind {
                        LineKind::Command => text.strong(),
                        LineKind::Error => text.color(ui.visuals().error_fg_color),
                        LineKind::Notice => text.italics(),
                        LineKind::Reply => text,
                    };
                    ui.add(egui::Label::new(text).selectable(true));
                }
            });
        ui.separator();
        let mut run = false;
        ui.horizontal(|ui| {
            let label = ui.label("Command:");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.input)
                        .font(egui::TextStyle::Monospace)
                        .desired_width(ui.available_width() - 80.0),
                )
                .labelled_by(label.id);
            if edit.has_focus() {
                let (up, down, tab) = ui.input(|i| {
                    (
                        i.key_pressed(egui::Key::ArrowUp),
                        i.key_pressed(egui::Key::ArrowDown),
                        i.key_pressed(egui::Key::Tab),
                    )
                });
                if up {
                    self.browse(-1);
                }
                if down {
                    self.browse(1);
                }
                if tab {
                    if let Some(word) = self.completions().first().cloned() {
                        self.input = word;
                    }
                }
            }
            if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                run = true;
                edit.request_focus();
            }
            if ui
                .add_enabled(self.running.is_none(), egui::Button::new("Execute"))
                .clicked()
            {
                run = true;
            }
        });
        let completions = self.completions();
        if !completions.is_empty() && completions.first() != Some(&self.input) {
            ui.horizontal_wrapped(|ui| {
                ui.weak("Completions:");
                for word in completions.iter().take(8) {
                    if ui.small_button(word).clicked() {
                        self.input = word.clone();
                    }
                }
            });
        }
        if self.running.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Executing…");
            });
        }
        if run {
            self.submit(ui.ctx(), node, wallet);
        }
    }

    /// Commands starting with what is typed (none for an empty line).
    pub fn completions(&self) -> Vec<String> {
        let typed = self.input.trim_start();
        if typed.is_empty() || typed.contains(['(', ' ', ',']) && !typed.starts_with("help ") {
            return Vec::new();
        }
        self.words
            .iter()
            .filter(|word| word.starts_with(typed))
            .cloned()
            .collect()
    }

    fn browse(&mut self, step: isize) {
        let next = self.browsing as isize + step;
        if next < 0 || next as usize > self.history.len() {
            return;
        }
        self.browsing = next as usize;
        self.input = self
            .history
            .get(self.browsing)
            .map(|entry| entry.text.clone())
            .unwrap_or_default();
    }

    pub fn submit(&mut self, ctx: &egui::Context, node: &Arc<dyn Node>, wallet: Option<String>) {
        let line = std::mem::take(&mut self.input);
        if line.trim().is_empty() {
            return;
        }
        let (shown, redacted) = console_parser::redact(&line);
        let recalled_redacted = self
            .history
            .iter()
            .any(|entry| entry.redacted && entry.text == line);
        self.output.push(Line {
            text: format!("> {shown}"),
            kind: LineKind::Command,
        });
        self.history.retain(|entry| entry.text != shown);
        self.history.push_back(Entry {
            text: shown,
            redacted,
        });
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        self.browsing = self.history.len();
        if recalled_redacted {
            self.error(
                "This history line had its arguments hidden; type the command again in full.",
            );
            return;
        }
        let call = match console_parser::parse(&line) {
            Ok(call) => call,
            Err(error) => return self.error(&error.to_string()),
        };
        if call.method == "help-console" {
            self.output.push(Line {
                text: HELP_CONSOLE.into(),
                kind: LineKind::Reply,
            });
            return;
        }
        if self.running.is_some() && call.method != "stop" {
            return self.error("A command is already executing; wait for its reply.");
        }
        let node = node.clone();
        let uri = wallet
            .map(|name| format!("/wallet/{}", percent_encode(&name)))
            .unwrap_or_else(|| "/".into());
        self.running = Some(Task::spawn(ctx, move || {
            console_parser::evaluate(&call, &mut |method: &str, params: Value| {
                node.execute_rpc(method, Some(params), &uri)
                    .map_err(|e| format!("{} (code {})", e.message, e.code))
            })
        }));
    }

    fn error(&mut self, text: &str) {
        self.output.push(Line {
            text: text.to_string(),
            kind: LineKind::Error,
        });
    }

    fn collect(&mut self, node: &Arc<dyn Node>, ctx: &egui::Context) {
        if self.words.is_empty() && self.commands.is_none() {
            let node = node.clone();
            self.commands = Some(Task::spawn(ctx, move || node.list_rpc_commands()));
        }
        if let Some(Ok(commands)) = task::take(&mut self.commands) {
            let mut words: Vec<String> = commands
                .iter()
                .flat_map(|c| [c.clone(), format!("help {c}")])
                .chain(["help-console".to_string()])
                .collect();
            words.sort();
            self.words = words;
        }
        match task::take(&mut self.running) {
            None => {}
            Some(Ok(Ok(value))) => self.output.push(Line {
                text: console_parser::display(&value),
                kind: LineKind::Reply,
            }),
            Some(Ok(Err(error))) | Some(Err(error)) => self.error(&error),
        }
    }
}

/// A wallet name in the `/wallet/<name>` path.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
