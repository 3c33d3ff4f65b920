import { raise } from './errors';
import { sizeOfValue, type WfValue } from './values';

/** Tracks the cumulative size of live variables against the 512 KB limit (wf:quotas). */
export class MemoryMeter {
  private used = 0;

  constructor(private readonly limitBytes: number) {}

  /** Applies a size change, refusing (before anything is stored) one that would pass the limit. */
  reserve(delta: number): void {
    if (this.used + delta > this.limitBytes) {
      raise(
        'ResourceLimitError',
        `memory limit exceeded: variables would use ${this.used + delta} bytes (limit ${this.limitBytes})`,
      );
    }
    this.used += delta;
  }

  get usedBytes(): number {
    return this.used;
  }
}

/**
 * Runtime variable scope. A subworkflow call gets a root scope; `for` bodies and parallel branches get
 * child scopes owning only their statically-known locals, so writes to other names reach the enclosing
 * scope and locals vanish on `release()` (WS `loop_scope`, `parallel_shared_variables`).
 */
export class Scope {
  private readonly vars = new Map<string, WfValue>();
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly meter: MemoryMeter,
    private readonly parent?: Scope,
    private readonly locals?: ReadonlySet<string>,
    /** True for parallel branch/iteration scopes, whose writes to outer names are shared writes. */
    private readonly isBranch = false,
  ) {}

  /** Whether writing `name` from here reaches a variable shared between parallel branches. */
  isSharedWrite(name: string): boolean {
    const owner = this.owner(name);
    for (let current: Scope | undefined = this; current && current !== owner; current = current.parent) {
      if (current.isBranch) return true;
    }
    return false;
  }

  get(name: string): WfValue | undefined {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.parent?.get(name);
  }

  /** Stores a variable in the scope that owns its name. The caller passes a value it no longer shares. */
  set(name: string, value: WfValue): void {
    this.owner(name).store(name, value);
  }

  /** Frees this scope's variables from the memory budget. */
  release(): void {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    this.meter.reserve(-total);
    this.vars.clear();
    this.sizes.clear();
  }

  private owner(name: string): Scope {
    if (!this.parent || this.vars.has(name) || this.locals?.has(name)) return this;
    return this.parent.owner(name);
  }

  private store(name: string, value: WfValue): void {
    const size = sizeOfValue(value) + name.length;
    this.meter.reserve(size - (this.sizes.get(name) ?? 0));
    this.vars.set(name, value);
    this.sizes.set(name, size);
  }
}
