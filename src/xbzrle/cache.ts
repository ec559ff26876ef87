/**
 * The source-side XBZRLE page cache with QEMU's rules (migration/page_cache.c, as facts):
 * direct-mapped, slot = (ram_addr / page size) mod slots, a power-of-two slot count; a lookup
 * hit refreshes the age; an insert into a slot held by another page fails while that page is
 * still fresh (its age + 2 > the current dirty-sync count).
 * @module
 */

/** Direct-mapped page cache keyed by global RAM address. */
export class PageCache {
  readonly pageSize: number;
  readonly slots: number;
  #addr: Float64Array;
  #age: Float64Array;
  #data: (Uint8Array | undefined)[];

  /** `size` bytes of cache; the slot count is rounded down to a power of two (at least 1). */
  constructor(size: number, pageSize: number) {
    const pages = Math.max(1, Math.floor(size / pageSize));
    this.slots = 2 ** Math.floor(Math.log2(pages));
    this.pageSize = pageSize;
    this.#addr = new Float64Array(this.slots).fill(-1);
    this.#age = new Float64Array(this.slots);
    this.#data = new Array(this.slots);
  }

  #slot(addr: number): number {
    return Math.floor(addr / this.pageSize) % this.slots;
  }

  /** True when `addr` is cached; a hit refreshes its age to `age`. */
  lookup(addr: number, age: number): boolean {
    const s = this.#slot(addr);
    if (this.#addr[s] !== addr) return false;
    this.#age[s] = age;
    return true;
  }

  /** The cached copy of `addr` (call after a successful lookup or insert). */
  get(addr: number): Uint8Array {
    const s = this.#slot(addr);
    if (this.#addr[s] !== addr) throw new Error(`page 0x${addr.toString(16)} is not cached`);
    return this.#data[s]!;
  }

  /** Inserts a copy of `data` for `addr`; false when the slot holds another, still fresh page. */
  insert(addr: number, data: Uint8Array, age: number): boolean {
    const s = this.#slot(addr);
    const held = this.#data[s];
    if (held && this.#addr[s] !== addr && this.#age[s] + 2 > age) return false;
    const buf = held ?? new Uint8Array(this.pageSize);
    buf.set(data);
    this.#data[s] = buf;
    this.#addr[s] = addr;
    this.#age[s] = age;
    return true;
  }
}
