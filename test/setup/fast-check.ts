// Property tests run with a fixed seed so CI is repeatable; set FC_SEED to explore other inputs
// (e.g. FC_SEED=$RANDOM npm test). A failure prints its seed and counterexample either way.
import fc from 'fast-check';

fc.configureGlobal({ seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261125 });
