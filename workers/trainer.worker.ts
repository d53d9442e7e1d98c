/**
 * Trainer worker: the policy, its rollouts and its updates run here, off the page's main
 * thread. Thin on purpose: the API is built in src/session/trainer-api.ts.
 */
import { expose } from 'comlink';
import { createTrainerApi } from '../src/session/trainer-api.ts';

expose(createTrainerApi());
