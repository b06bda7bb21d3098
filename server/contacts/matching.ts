import type { DataSource } from 'typeorm';
import { findCustomerByPhoneHash } from '../allocation/repo';
import { allocationForState } from '../allocation/service';
import { hashPhone } from '../customers/phone';
import type { Allocation } from '../db/entities';
import { matchedSiblingByUnionid } from './repo';

/**
 * Who is this external contact in the bank's records? In order of trust: the contact-way state
 * (it names our own allocation, hence its customer), the WeChat unionid seen on an earlier contact
 * already matched, then the phone the manager noted on the contact (remark_mobiles), hashed.
 */

export type MatchedBy = 'state' | 'unionid' | 'phone';

export interface Match {
  customerId: string | null;
  matchedBy: MatchedBy | null;
  /** The allocation the state points at, even when it names no customer (anonymous entry). */
  allocation: Allocation | null;
}

export interface MatchInput {
  externalUserid: string;
  state?: string | null;
  unionid?: string | null;
  /** Clear phone numbers from follow_user[].remark_mobiles; hashed here, never stored. */
  phones?: string[];
}

export async function matchCustomer(db: DataSource, input: MatchInput, salt: string): Promise<Match> {
  const allocation = await allocationForState(db, input.state);
  if (allocation?.customerId) return { customerId: allocation.customerId, matchedBy: 'state', allocation };

  if (input.unionid) {
    const sibling = await matchedSiblingByUnionid(db, input.unionid, input.externalUserid);
    if (sibling?.customerId) return { customerId: sibling.customerId, matchedBy: 'unionid', allocation };
  }

  for (const phone of input.phones ?? []) {
    const customer = await findCustomerByPhoneHash(db, hashPhone(phone, salt));
    if (customer) return { customerId: customer.id, matchedBy: 'phone', allocation };
  }
  return { customerId: null, matchedBy: null, allocation };
}
