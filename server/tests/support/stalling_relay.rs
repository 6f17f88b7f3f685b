//! A TCP relay in front of a real server that can *hold* traffic: while held,
//! bytes are neither forwarded nor refused, as when a network path or a
//! database host freezes. Connections stay open, so clients wait instead of
//! failing fast — the case that timeouts on our side must bound.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct StallingRelay {
    pub port: u16,
    held: Arc<watch::Sender<bool>>,
}

impl StallingRelay {
    /// Relays every connection to `target` (host:port).
    pub async fn start(target: String) -> StallingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (held, _) = watch::channel(false);
        let held = Arc::new(held);
        let relay_held = held.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let target = target.clone();
                let held = relay_held.subscribe();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (in_read, in_write) = inbound.into_split();
                    let (out_read, out_write) = outbound.into_split();
                    tokio::join!(
                        pump(in_read, out_write, held.clone()),
                        pump(out_read, in_write, held)
                    );
                });
            }
        });
        StallingRelay { port, held }
    }

    /// Stops forwarding in both directions, without closing anything.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    pub fn release(&self) {
        self.held.send_replace(false);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut held: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        // Held: read nothing, so the sender's data waits in the kernel.
        if held.wait_for(|held| !held).await.is_err() {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = held.wait_for(|held| *held) => continue,
        };
        let Ok(n) = read else { return };
        if n == 0 {
            let _ = to.shutdown().await;
            return;
        }
        // Data read just as the hold began is kept until the release.
        if held.wait_for(|held| !held).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
