// Idle wait on a file descriptor without blocking the event loop: poll(2) runs on a
// worker thread (koffi async / Deno nonblocking symbol) over two descriptors, the
// device and an eventfd that interrupt() and close() write to so the worker returns at
// once. At most one poll is in flight per waiter.
//
// The pollfd array handed to the worker (struct pollfd, 8 bytes each):
//
//   offset 0            8            16
//   ┌──────┬──────┬──────┬──────┬──────┬──────┐
//   │ fd   │events│revnts│ efd  │events│revnts│
//   │ i32  │ i16  │ i16  │ i32  │ i16  │ i16  │
//   └──────┴──────┴──────┴──────┴──────┴──────┘
//     [0] the device        [1] the wake eventfd
//
// JS never touches the array while a poll is in flight.

import {
  check, EAGAIN, EBADF, EBADFD, EFD_CLOEXEC, EFD_NONBLOCK, ENOBUFS, ENODEV, ENXIO, type Libc, POLLERR, POLLFD_SIZE,
  POLLHUP, POLLIN, POLLNVAL, SysError,
} from "../runtime/ffi.ts";
import { LinkBase } from "./link.ts";

export class FdWaiter {
  private readonly efd: number;
  private readonly pfds = new Uint8Array(2 * POLLFD_SIZE);
  private readonly pv = new DataView(this.pfds.buffer);
  private readonly one = new Uint8Array(8);
  private readonly scratch = new Uint8Array(8);
  private pending: Promise<boolean> | null = null;
  private closed = false;
  /** Polls run on a worker (for tests and diagnostics). */
  polls = 0;
  /** The device's revents of the last poll that returned (0 after a timeout). */
  lastRevents = 0;

  constructor(private readonly libc: Libc, fd: number) {
    this.efd = check(libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
    new DataView(this.one.buffer).setBigUint64(0, 1n, true);
    this.pv.setInt32(0, fd, true);
    this.pv.setInt32(POLLFD_SIZE, this.efd, true);
  }

  /** True when the device is readable (or in error) right now; never blocks. */
  readableNow(): boolean {
    if (this.closed || this.pending) return false;
    this.arm();
    const r = this.libc.poll(this.pfds, 1, 0);
    this.lastRevents = r > 0 ? this.pv.getInt16(6, true) : 0;
    return (this.lastRevents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) !== 0;
  }

  async wait(timeoutMs: number): Promise<boolean> {
    if (this.pending) {
      this.interrupt();
      await this.pending;
    }
    if (this.closed) return false;
    if (timeoutMs === 0) return this.readableNow();
    const t = !(timeoutMs >= 0) || !Number.isFinite(timeoutMs) ? -1 : Math.min(Math.ceil(timeoutMs), 0x7fffffff);
    this.pending = this.run(t);
    try {
      return await this.pending;
    } finally {
      this.pending = null;
    }
  }

  private arm(): void {
    this.pv.setInt16(4, POLLIN, true);
    this.pv.setInt16(6, 0, true);
    this.pv.setInt16(POLLFD_SIZE + 4, POLLIN, true);
    this.pv.setInt16(POLLFD_SIZE + 6, 0, true);
  }

  private async run(timeout: number): Promise<boolean> {
    this.arm();
    this.polls++;
    let r: number;
    try {
      r = await this.libc.pollAsync(this.pfds, 2, timeout);
    } catch {
      return false;
    }
    if (r <= 0) {
      this.lastRevents = 0;
      return false;
    }
    if (this.pv.getInt16(POLLFD_SIZE + 6, true) & POLLIN) this.libc.read(this.efd, this.scratch); // drain the wake-ups
    this.lastRevents = this.pv.getInt16(6, true);
    return (this.lastRevents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) !== 0;
  }

  /** Makes an in-flight wait return (false unless the device is also readable). */
  interrupt(): void {
    if (this.pending) this.libc.write(this.efd, this.one);
  }

  /** Ends any wait, then releases the eventfd. The device fd is the caller's to close, after this resolves. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // no new waits from here on
    if (this.pending) {
      this.libc.write(this.efd, this.one);
      await this.pending.catch(() => false);
    }
    this.libc.close(this.efd);
  }
}

/**
 * Errno values after which a descriptor of a TAP device or a packet socket never works
 * again: EBADFD (tun: the device was deleted, the file is detached), ENXIO / ENODEV
 * (the interface is gone), EBADF (the descriptor is not open). EIO (a TAP device that is
 * down) and ENETDOWN (a packet socket's interface went down) pass when the device comes
 * back up: they are transient.
 */
export const PERMANENT_ERRNOS: ReadonlySet<number> = new Set([EBADF, EBADFD, ENXIO, ENODEV]);

/**
 * A link on a non-blocking file descriptor (TAP, AF_PACKET): the idle wait through an
 * FdWaiter, interrupt, close, the bookkeeping of a write's result, and the detection of
 * a device that is gone (LinkBase.failure).
 */
export abstract class FdLinkBase extends LinkBase {
  protected readonly waiter: FdWaiter;
  private closing: Promise<void> | null = null;

  protected constructor(protected readonly libc: Libc, protected readonly fd: number) {
    super();
    this.waiter = new FdWaiter(libc, fd);
  }

  /** True when a write of `len` bytes returned `n` = len; counts real errors (not a full queue). */
  protected wrote(n: number, len: number, syscall = "write"): boolean {
    if (n === len) return true;
    if (n >= 0 || (n !== -EAGAIN && n !== -ENOBUFS)) {
      this.counters.txErrors++;
      if (n < 0) this.deviceError(syscall, -n);
    }
    return false;
  }

  /**
   * A read or write failed with `errno` (not EAGAIN): a permanent error fails the link
   * (LinkBase.fail), anything else is only counted by the caller.
   */
  protected deviceError(syscall: string, errno: number): void {
    if (PERMANENT_ERRNOS.has(errno)) this.fail(new SysError(syscall, errno, this.name));
  }

  async waitReadable(timeoutMs: number): Promise<boolean> {
    if (this.isClosed || this.failure) return false;
    const readable = await this.waiter.wait(timeoutMs);
    // POLLNVAL: the descriptor is not open (closed behind the link's back).
    if (this.waiter.lastRevents & POLLNVAL) this.fail(new SysError("poll", EBADF, this.name));
    return readable && !this.failure;
  }

  interrupt(): void {
    this.waiter.interrupt();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.isClosed = true;
      this.closing = this.waiter.close().then(() => {
        const r = this.libc.close(this.fd);
        if (r < 0) throw new SysError("close", -r, this.name);
      });
    }
    return this.closing;
  }
}
