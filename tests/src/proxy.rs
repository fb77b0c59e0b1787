//! A loopback TCP proxy between a device and the server that understands WebSocket framing
//! (RFC 6455 §5.2), so it can count the frames of a session and, when asked, misbehave the
//! way mobile networks and middleboxes do: drop, truncate, duplicate and delay whole frames
//! and cut connections. Faults come from a seeded RNG, so a failing run can be replayed.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use rand::{rngs::StdRng, Rng, SeedableRng};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        tcp::{OwnedReadHalf, OwnedWriteHalf},
        TcpListener, TcpStream,
    },
    task::JoinHandle,
};

/// How often each fault happens, per WebSocket data frame (probabilities, summed ≤ 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// The frame vanishes; the connection goes on.
    pub drop: f64,
    /// Half the frame is written, then the connection is cut.
    pub truncate: f64,
    /// The frame arrives twice.
    pub duplicate: f64,
    /// The frame (and so everything after it in that direction) is held back a while.
    pub delay: f64,
    /// The connection is cut before the frame.
    pub cut: f64,
    /// Longest delay.
    pub max_delay: Duration,
}

impl FaultPlan {
    /// No faults: a transparent, frame-counting proxy.
    pub const NONE: FaultPlan = FaultPlan {
        drop: 0.0,
        truncate: 0.0,
        duplicate: 0.0,
        delay: 0.0,
        cut: 0.0,
        max_delay: Duration::ZERO,
    };
}

/// Which way a frame travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Device → server.
    ToServer,
    /// Server → device.
    ToDevice,
}

/// One data frame seen by the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSeen {
    /// Which way.
    pub direction: Direction,
    /// WebSocket opcode (2 = binary, 1 = text, 0 = continuation).
    pub opcode: u8,
    /// Payload length in bytes.
    pub payload_len: u64,
}

/// What a [`FrameFilter`] does with one binary frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Forward it unchanged.
    Pass,
    /// Drop it.
    Drop,
    /// Send this payload instead (server → device frames only, which are unmasked).
    Replace(Vec<u8>),
}

/// Decides per binary frame (direction, payload) what happens to it.
pub type FrameFilter = Arc<dyn Fn(Direction, &[u8]) -> Verdict + Send + Sync>;

/// The proxy; it stops accepting when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// Where devices connect (`ws://{addr}/sync`).
    pub addr: SocketAddr,
    faulty: Arc<AtomicBool>,
    frames: Arc<Mutex<Vec<FrameSeen>>>,
    faults_injected: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` injecting faults per `plan`, seeded with `seed`.
    pub async fn start(upstream: SocketAddr, plan: FaultPlan, seed: u64) -> Self {
        Self::start_with(upstream, plan, seed, None).await
    }

    /// A proxy that drops or rewrites exactly the binary frames `filter` says (no random
    /// faults).
    pub async fn filtering(upstream: SocketAddr, filter: FrameFilter) -> Self {
        Self::start_with(upstream, FaultPlan::NONE, 0, Some(filter)).await
    }

    async fn start_with(
        upstream: SocketAddr,
        plan: FaultPlan,
        seed: u64,
        filter: Option<FrameFilter>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let faulty = Arc::new(AtomicBool::new(plan != FaultPlan::NONE));
        let frames = Arc::new(Mutex::new(Vec::new()));
        let faults_injected = Arc::new(AtomicU64::new(0));
        let shared = Shared {
            plan,
            faulty: Arc::clone(&faulty),
            frames: Arc::clone(&frames),
            faults: Arc::clone(&faults_injected),
            filter,
        };
        let task = tokio::spawn(async move {
            let mut connection = 0u64;
            while let Ok((device, _)) = listener.accept().await {
                connection += 1;
                let shared = shared.clone();
                let seed = seed ^ connection.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(device, server, shared, seed).await;
                    }
                });
            }
        });
        Self {
            addr,
            faulty,
            frames,
            faults_injected,
            task,
        }
    }

    /// A transparent proxy that only counts frames.
    pub async fn transparent(upstream: SocketAddr) -> Self {
        Self::start(upstream, FaultPlan::NONE, 0).await
    }

    /// The WebSocket endpoint through the proxy.
    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// The network is good again: no more faults on any connection.
    pub fn heal(&self) {
        self.faulty.store(false, Ordering::SeqCst);
    }

    /// Data frames seen so far, in order per direction.
    pub fn frames(&self) -> Vec<FrameSeen> {
        self.frames.lock().unwrap().clone()
    }

    /// Forgets the frames seen so far.
    pub fn clear_frames(&self) {
        self.frames.lock().unwrap().clear();
    }

    /// How many faults were injected.
    pub fn faults_injected(&self) -> u64 {
        self.faults_injected.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Shared {
    filter: Option<FrameFilter>,
    plan: FaultPlan,
    faulty: Arc<AtomicBool>,
    frames: Arc<Mutex<Vec<FrameSeen>>>,
    faults: Arc<AtomicU64>,
}

async fn relay(device: TcpStream, server: TcpStream, shared: Shared, seed: u64) {
    let _ = device.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (dr, dw) = device.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(dr, sw, Direction::ToServer, shared.clone(), seed);
    let down = pump(sr, dw, Direction::ToDevice, shared, seed.rotate_left(17));
    // When either direction ends (EOF, error or an injected cut), both sockets close.
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Copies the HTTP upgrade head, then frame by frame, applying faults to data frames.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    direction: Direction,
    shared: Shared,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let Some(rest) = copy_http_head(&mut from, &mut to).await else {
        return;
    };
    let mut reader = Buffered { from, buf: rest };
    loop {
        let Some((frame, opcode, payload_len)) = reader.frame().await else {
            return;
        };
        let data = opcode <= 2;
        let mut frame = frame;
        if opcode == 2 {
            if let Some(filter) = &shared.filter {
                match filter(direction, &payload(&frame)) {
                    Verdict::Pass => {}
                    Verdict::Drop => continue,
                    Verdict::Replace(bytes) => {
                        assert_eq!(direction, Direction::ToDevice, "device frames are masked");
                        frame = unmasked_binary_frame(&bytes);
                    }
                }
            }
            shared.frames.lock().unwrap().push(FrameSeen {
                direction,
                opcode,
                payload_len,
            });
        }
        let mut copies = 1;
        if data && shared.faulty.load(Ordering::SeqCst) {
            let p = shared.plan;
            let r: f64 = rng.gen();
            let mut edge = p.drop;
            if r < edge {
                shared.faults.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            edge += p.truncate;
            if r < edge {
                shared.faults.fetch_add(1, Ordering::SeqCst);
                let _ = to.write_all(&frame[..frame.len() / 2]).await;
                return;
            }
            edge += p.duplicate;
            if r < edge {
                shared.faults.fetch_add(1, Ordering::SeqCst);
                copies = 2;
            } else {
                edge += p.delay;
                if r < edge {
                    shared.faults.fetch_add(1, Ordering::SeqCst);
                    let millis = p.max_delay.as_millis().max(1) as u64;
                    tokio::time::sleep(Duration::from_millis(rng.gen_range(0..=millis))).await;
                } else if r < edge + p.cut {
                    shared.faults.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
        }
        for _ in 0..copies {
            if to.write_all(&frame).await.is_err() {
                return;
            }
        }
    }
}

/// Forwards bytes up to and including the blank line ending the HTTP head; returns what was
/// read beyond it. `None` when the stream ended first.
async fn copy_http_head(from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = from.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head_end = end + 4;
            to.write_all(&buf[..head_end]).await.ok()?;
            return Some(buf[head_end..].to_vec());
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
}

/// One final, unmasked binary frame carrying `payload` (RFC 6455 §5.2).
fn unmasked_binary_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x82];
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

/// A frame's payload, unmasked (device frames are masked, RFC 6455 §5.3).
fn payload(frame: &[u8]) -> Vec<u8> {
    let masked = frame[1] & 0x80 != 0;
    let mut at = match frame[1] & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    let mask = if masked {
        let m = [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]];
        at += 4;
        Some(m)
    } else {
        None
    };
    let mut data = frame[at..].to_vec();
    if let Some(m) = mask {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= m[i % 4];
        }
    }
    data
}

struct Buffered {
    from: OwnedReadHalf,
    buf: Vec<u8>,
}

impl Buffered {
    async fn fill(&mut self, n: usize) -> Option<()> {
        let mut chunk = [0u8; 16 * 1024];
        while self.buf.len() < n {
            let got = self.from.read(&mut chunk).await.ok()?;
            if got == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..got]);
        }
        Some(())
    }

    /// The next whole frame's bytes, its opcode and payload length.
    async fn frame(&mut self) -> Option<(Vec<u8>, u8, u64)> {
        self.fill(2).await?;
        let opcode = self.buf[0] & 0x0f;
        let masked = self.buf[1] & 0x80 != 0;
        let (payload_len, mut header) = match self.buf[1] & 0x7f {
            126 => {
                self.fill(4).await?;
                (u64::from(u16::from_be_bytes([self.buf[2], self.buf[3]])), 4)
            }
            127 => {
                self.fill(10).await?;
                let mut len = [0u8; 8];
                len.copy_from_slice(&self.buf[2..10]);
                (u64::from_be_bytes(len), 10)
            }
            n => (u64::from(n), 2),
        };
        if masked {
            header += 4;
        }
        if payload_len > 64 * 1024 * 1024 {
            return None;
        }
        let total = header + payload_len as usize;
        self.fill(total).await?;
        let frame: Vec<u8> = self.buf.drain(..total).collect();
        Some((frame, opcode, payload_len))
    }
}
