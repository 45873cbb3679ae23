import { describe, expect, it } from 'vitest';
import { sqsContentFault } from '../../local/emulator/gateway';

const send = (input: unknown) => sqsContentFault('AmazonSQS.SendMessage', JSON.stringify(input));

describe("sqsContentFault: the local gateway refuses what SQS refuses in a message's text, which moto stores", () => {
  it('takes tab, LF, CR, DEL, accents, CJK and characters beyond U+FFFF', () => {
    expect(send({ QueueUrl: 'q', MessageBody: 'a\tb\nc\rd\u007f é 日本 🎧 \ufffd', MessageAttributes: { reason: { DataType: 'String', StringValue: 'ok 🎧' } } })).toBeUndefined();
  });

  it('refuses a control character in the body, and U+FFFF in a String attribute, naming the part and the character', () => {
    expect(send({ QueueUrl: 'q', MessageBody: 'a\u001bb' })).toEqual({
      status: 400,
      code: 'InvalidMessageContents',
      message: "Invalid binary character '#x1B' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
      json: true,
    });
    expect(send({ QueueUrl: 'q', MessageBody: 'fine', MessageAttributes: { errorName: { DataType: 'String', StringValue: 'E' }, reason: { DataType: 'String', StringValue: 'x\uffff' } } })?.message).toMatch(
      /^Invalid binary character '#xFFFF' was found in the message attribute reason,/,
    );
  });

  it('leaves every other request to moto', () => {
    expect(sqsContentFault('AmazonSQS.ChangeMessageVisibility', JSON.stringify({ QueueUrl: 'q\u0001' }))).toBeUndefined();
    expect(sqsContentFault(undefined, '')).toBeUndefined();
  });
});
