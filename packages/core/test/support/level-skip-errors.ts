// Shared by tests: run a function that must throw a LevelskipError and return that error.
export { levelskipErrorOf as errorOf } from '../../src/testing/errors.js';
