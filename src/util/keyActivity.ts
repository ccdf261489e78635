/**
 * What an agent's facts about one key say about the host: the chains' "actively signing" predicates
 * (chains/<chain>/agent*.ts) produce it and the fleet monitor stores it. One type for every chain.
 */
export interface KeyActivity {
  active: boolean;
  /** How sure the observation is that this host signs with the key, in [0,1]. */
  certainty: number;
  /** Identity of a shared remote signer that decides for every host using it, or null. */
  signerId: string | null;
}
