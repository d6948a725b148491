//! The example pair for the IPC tests. `c1pzo-echo <message>` spawns itself
//! as `c1pzo-echo -ipcfd 3`, bootstraps the child's `Init`, makes a thread
//! and an Echo on it, and prints what Echo returns. The child serves `Init`
//! until its parent hangs up.

use std::process::ExitCode;

use ipc::proxy_capnp::thread_map;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match ipc::process::spawned_socket(&args) {
        Ok(Some(stream)) => match ipc::serve::serve_blocking(stream) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("c1pzo-echo: {err}");
                ExitCode::FAILURE
            }
        },
        Ok(None) => match parent(&args.join(" ")) {
            Ok(reply) => {
                println!("{reply}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("c1pzo-echo: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parent(message: &str) -> Result<String, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let spawned = ipc::process::spawn(&exe)?;
    let stream = spawned.stream.try_clone()?;
    stream.set_nonblocking(true)?;
    let (runtime, local) = ipc::serve::event_loop()?;
    let message = message.to_string();
    let reply = local.block_on(&runtime, async move {
        let (init, system) = ipc::connect::client_vat(tokio::net::UnixStream::from_std(stream)?);
        let disconnector = system.get_disconnector();
        tokio::task::spawn_local(system);

        let constructed = init.construct_request().send().promise.await?;
        let map: thread_map::Client = constructed.get()?.get_thread_map()?;
        let mut make_thread = map.make_thread_request();
        make_thread.get().set_name("c1pzo-echo");
        let thread = make_thread.send().promise.await?.get()?.get_result()?;
        let mut make_echo = init.make_echo_request();
        make_echo.get().init_context().set_thread(thread.clone());
        let echo = make_echo.send().promise.await?.get()?.get_result()?;
        let mut request = echo.echo_request();
        request.get().init_context().set_thread(thread);
        request.get().set_echo(message.as_str());
        let reply = request
            .send()
            .promise
            .await?
            .get()?
            .get_result()?
            .to_string()?;
        disconnector.await?;
        Ok::<_, Box<dyn std::error::Error>>(reply)
    })?;
    let status = spawned.reap("c1pzo-echo")?;
    if !status.success() {
        return Err(format!("the child exited with {status}").into());
    }
    Ok(reply)
}
