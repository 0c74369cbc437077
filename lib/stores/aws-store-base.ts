import 'server-only';
import { checkFolderPath } from '@/lib/validations/item-name';
import { toStoreError } from './aws-errors';
import { toWriteError } from './aws-write-errors';
import { FOLDER_CACHE_MS, TtlCache } from './aws-paging';
import { refuseBadName } from './errors';

/** What the Parameter Store and Secrets Manager adapters share: a lazy client, name checks, error mapping. */
export abstract class AwsStoreBase<Client> {
  protected readonly folders = new TtlCache<string[]>(FOLDER_CACHE_MS);

  constructor(
    readonly id: string,
    readonly label: string,
    /** Made on the first call, so start-up works offline. */
    protected readonly client: () => Client,
    /** The same connection with one attempt per call: the inventory sync paces and retries itself. */
    protected readonly syncClient: () => Client = client,
    /** CONFIG_FILE `writable: true`: rotate and generate may write to AWS. Off by default. */
    readonly writable: boolean = false,
  ) {}

  protected assertFolder(path: string): void {
    refuseBadName(this.id, checkFolderPath(path));
  }

  /** Runs one AWS call; any failure becomes a StoreError that names this store and the cause. */
  protected async call<T>(action: string, run: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await run(this.client());
    } catch (error) {
      throw toStoreError(this.id, action, error);
    }
  }

  /** Runs one AWS call that changes something; AWS's refusals become ConflictErrors in the user's terms. */
  protected async write<T>(action: string, name: string, run: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await run(this.client());
    } catch (error) {
      throw toWriteError(this.id, action, name, error);
    }
  }

  /** One attempt of one AWS call for the inventory sync, which paces and retries on its own. */
  protected async callOnce<T>(action: string, run: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await run(this.syncClient());
    } catch (error) {
      throw toStoreError(this.id, action, error);
    }
  }
}
