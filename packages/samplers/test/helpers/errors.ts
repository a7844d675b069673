// The LevelskipError a call throws (or a promise rejects with); any other outcome fails the test.
export { levelskipErrorOf as errorOf, levelskipRejectionOf as rejectionOf } from '@levelskip/core/testing';
